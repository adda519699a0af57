#include "server/store_document_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "server/document_hub.h"
#include "store/memory_store.h"
#include "store/sqlite_store.h"
#include "sync_fakes.h"

namespace weft::server {
namespace {

class Recorder : public Subscriber {
 public:
  void Send(std::shared_ptr<const std::string>) override { ++frames; }
  std::uint64_t session_id() const override { return 1; }
  std::string user_id() const override { return "u1"; }
  std::atomic<int> frames{0};
};

// Waits (bounded) until `pred` holds; the store completes appends on its
// completer thread.
template <typename F>
bool Eventually(F pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

store::SqliteOptions SqliteAt(const std::string& path) {
  store::SqliteOptions options;
  options.path = path;
  return options;
}

TEST(StoreDocumentLogTest, PayloadRoundTrips) {
  proto::Change c{7, 40, 3, std::string("up\0date", 7)};
  store::StoredOp op;
  op.id = {7, 40};
  op.payload = StoreDocumentLog::EncodePayload(c);
  auto back = StoreDocumentLog::DecodeStoredOp(op);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, c);
  op.payload += "x";
  EXPECT_EQ(StoreDocumentLog::DecodeStoredOp(op).status().code(),
            StatusCode::kCorruption);
}

TEST(StoreDocumentLogTest, AppendsAreDurableSequencedAndIdempotent) {
  auto store = store::NewMemoryStore();
  StoreDocumentLog log(*store);
  Result<std::vector<std::uint64_t>> got = Status::Internal("not called");
  std::atomic<bool> done{false};
  log.Append("d", {{{1, 0, 2, "a"}, "u1"}, {{1, 2, 1, "b"}, "u1"}},
             [&](Result<std::vector<std::uint64_t>> r) {
               got = std::move(r);
               done = true;
             });
  ASSERT_TRUE(Eventually([&] { return done.load(); }));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (std::vector<std::uint64_t>{1, 2}));
  done = false;
  log.Append("d", {{{1, 2, 1, "b"}, "u1"}},
             [&](Result<std::vector<std::uint64_t>> r) {
               got = std::move(r);
               done = true;
             });
  ASSERT_TRUE(Eventually([&] { return done.load(); }));
  EXPECT_EQ(*got, (std::vector<std::uint64_t>{2}));
  auto history = log.Read("d");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->head_seq, 2u);
  ASSERT_EQ(history->entries.size(), 2u);
  EXPECT_EQ(history->entries[0].change, (proto::Change{1, 0, 2, "a"}));
  // Who client 1 belongs to: the user of its change at seq 0.
  EXPECT_EQ(history->writers,
            (std::vector<std::pair<std::uint64_t, std::string>>{{1, "u1"}}));
  EXPECT_EQ(log.Read("unknown")->head_seq, 0u);
}

// A snapshot's state is built on the log's worker, not on the caller's
// thread (for the hub, often the store's completion thread); a build that
// fails saves nothing and says why.
TEST(StoreDocumentLogTest, SnapshotsAreBuiltOnTheWorkerThread) {
  auto store = store::NewMemoryStore();
  StoreDocumentLog log(*store);
  std::atomic<bool> done{false};
  log.Append("d", {{{1, 0, 2, "a"}, "u1"}, {{1, 2, 1, "b"}, "u1"}},
             [&](Result<std::vector<std::uint64_t>>) { done = true; });
  ASSERT_TRUE(Eventually([&] { return done.load(); }));

  std::thread::id built_on;
  Result<StoredSnapshot> saved = Status::Internal("not called");
  done = false;
  log.BuildAndSaveSnapshot(
      "d", 2,
      [&]() -> Result<std::string> {
        built_on = std::this_thread::get_id();
        return std::string("state at 2");
      },
      [&](Result<StoredSnapshot> r) {
        saved = std::move(r);
        done = true;
      });
  ASSERT_TRUE(Eventually([&] { return done.load(); }));
  EXPECT_NE(built_on, std::this_thread::get_id());
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->last_included_seq, 2u);
  EXPECT_EQ(saved->state, "state at 2");
  auto history = log.Read("d");
  ASSERT_TRUE(history.ok());
  ASSERT_TRUE(history->snapshot.has_value());
  EXPECT_EQ(history->snapshot->state, "state at 2");
  EXPECT_TRUE(history->entries.empty());  // compacted up to it

  done = false;
  log.BuildAndSaveSnapshot(
      "d", 2,
      []() -> Result<std::string> { return Status::Corruption("bad replay"); },
      [&](Result<StoredSnapshot> r) {
        saved = std::move(r);
        done = true;
      });
  ASSERT_TRUE(Eventually([&] { return done.load(); }));
  EXPECT_EQ(saved.status().code(), StatusCode::kCorruption);
}

TEST(StoreDocumentLogTest, HubOnSqliteSurvivesRestartWithSnapshot) {
  std::string path = "/tmp/weft-sdl-" + std::to_string(::getpid()) + ".db";
  std::filesystem::remove(path);
  testing::ListModelFactory models;
  HubConfig config;
  config.snapshot_every = 3;
  config.unload_snapshot_min = 1;  // fold even the last two entries
  {
    auto store = store::OpenSqliteStore(SqliteAt(path));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    StoreDocumentLog log(**store);
    DocumentHub hub(log, models, config);
    auto sub = std::make_shared<Recorder>();
    ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, sub).ok());
    for (std::uint64_t i = 0; i < 5; ++i) {
      EXPECT_FALSE(hub.Submit("doc", sub.get(),
                              {proto::Change{1, i, 1, std::to_string(i)}}));
      // Let each batch become durable (acks arrive as frames).
      int expected = 2 + 2 * static_cast<int>(i + 1);  // subscribed, synced
      ASSERT_TRUE(Eventually([&] { return sub->frames >= expected; }));
    }
    hub.Unsubscribe("doc", sub.get());
    ASSERT_TRUE(Eventually([&] { return hub.UnloadIdle() == 1; }));
  }
  auto store = store::OpenSqliteStore(SqliteAt(path));
  ASSERT_TRUE(store.ok());
  auto snap = (*store)->LatestSnapshot("doc");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->last_included_seq, 5);  // folded in on unload
  StoreDocumentLog log(**store);
  DocumentHub hub(log, models, config);
  EXPECT_EQ(*hub.ContentJson("doc"), "[\"0\",\"1\",\"2\",\"3\",\"4\"]");
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}

}  // namespace
}  // namespace weft::server
