// One conformance suite for every Store: memory, SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "store/document_export.h"
#include "store/store_test_backends.h"

namespace weft::store::testing {
namespace {

NewOp MakeOp(std::uint64_t client, std::uint64_t local,
             std::string payload = "") {
  NewOp op;
  op.id = {client, local};
  op.user_id = "u" + std::to_string(client);
  op.server_time_ms = 1'700'000'000'000 + static_cast<std::int64_t>(local);
  op.parents = "p" + std::to_string(local);
  op.payload = payload.empty() ? "op:" + std::to_string(client) + ":" +
                                     std::to_string(local)
                               : std::move(payload);
  return op;
}

template <typename Backend>
class StoreConformanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Backend::SetUpTestSuite(); }
  static void TearDownTestSuite() { Backend::TearDownTestSuite(); }

  void SetUp() override {
    auto s = backend_.OpenFresh();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  // Closes and reopens the same storage; false for the memory backend.
  bool Reopen() {
    if (!Backend::kDurable) return false;
    store_.reset();
    auto s = backend_.OpenAgain();
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return false;
    store_ = std::move(*s);
    return true;
  }

  Result<AppendResult> Append(std::string_view doc, std::vector<NewOp> ops) {
    return store_->Append(doc, ops);
  }

  Backend backend_;
  std::unique_ptr<Store> store_;
};

using Backends = ::testing::Types<MemoryBackend, SqliteBackend, PgBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};
TYPED_TEST_SUITE(StoreConformanceTest, Backends, BackendNames);

// What only a durable backend can do: survive being closed and reopened.
template <typename Backend>
class DurableStoreTest : public StoreConformanceTest<Backend> {};
using DurableBackends = ::testing::Types<SqliteBackend, PgBackend>;
TYPED_TEST_SUITE(DurableStoreTest, DurableBackends, BackendNames);

TYPED_TEST(StoreConformanceTest, AppendAssignsContiguousSeqsFromOne) {
  auto r = this->Append("d", {MakeOp(1, 1), MakeOp(1, 2), MakeOp(2, 1)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->seqs, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(r->duplicate, (std::vector<bool>{false, false, false}));
  EXPECT_EQ(r->first_new_seq, 1);
  EXPECT_EQ(r->new_count, 3);
  EXPECT_EQ(r->last_seq, 3);
  auto r2 = this->Append("d", {MakeOp(3, 1)});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->seqs, (std::vector<std::int64_t>{4}));
  EXPECT_EQ(r2->last_seq, 4);
  auto last = this->store_->LastSeq("d");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 4);
}

TYPED_TEST(StoreConformanceTest,
           RetriedOpIdReturnsOriginalSeqAndStoresNothing) {
  ASSERT_TRUE(this->Append("d", {MakeOp(1, 1), MakeOp(1, 2)}).ok());
  // The retry carries another payload: the stored op must not change.
  auto r = this->Append("d", {MakeOp(1, 2, "different")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->seqs, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(r->duplicate, (std::vector<bool>{true}));
  EXPECT_EQ(r->new_count, 0);
  EXPECT_EQ(r->first_new_seq, 0);
  EXPECT_EQ(r->last_seq, 2);
  auto ops = this->store_->ReadOps("d", 0);
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 2u);
  EXPECT_EQ((*ops)[1].payload, "op:1:2");
}

TYPED_TEST(StoreConformanceTest, MixedBatchKeepsTheRangeGapFree) {
  ASSERT_TRUE(this->Append("d", {MakeOp(1, 1), MakeOp(1, 2)}).ok());
  auto r = this->Append("d", {MakeOp(2, 1), MakeOp(1, 1), MakeOp(2, 2),
                              MakeOp(2, 1), MakeOp(1, 2), MakeOp(2, 3)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->seqs, (std::vector<std::int64_t>{3, 1, 4, 3, 2, 5}));
  EXPECT_EQ(r->duplicate,
            (std::vector<bool>{false, true, false, true, true, false}));
  EXPECT_EQ(r->first_new_seq, 3);
  EXPECT_EQ(r->new_count, 3);
  auto ops = this->store_->ReadOps("d", 0);
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 5u);
  for (std::size_t i = 0; i < ops->size(); ++i) {
    EXPECT_EQ((*ops)[i].seq, static_cast<std::int64_t>(i + 1));
  }
  EXPECT_EQ((*ops)[4].id, (OpId{2, 3}));
}

TYPED_TEST(StoreConformanceTest, RejectsEmptyBatchAndEmptyDocumentId) {
  auto r = this->Append("d", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  auto r2 = this->Append("", {MakeOp(1, 1)});
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), StatusCode::kInvalidArgument);
  std::promise<Status> p;
  this->store_->AppendAsync(
      "d", {}, [&](Result<AppendResult> res) { p.set_value(res.status()); });
  EXPECT_EQ(p.get_future().get().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(StoreConformanceTest, DocumentsHaveIndependentSeqsAndOpIds) {
  ASSERT_TRUE(this->Append("a", {MakeOp(1, 1), MakeOp(1, 2)}).ok());
  // The same op id in another document is another op.
  auto r = this->Append("b", {MakeOp(1, 2)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->seqs, (std::vector<std::int64_t>{1}));
  EXPECT_FALSE(r->duplicate[0]);
  auto ids = this->store_->ListDocumentIds();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"a", "b"}));
}

TYPED_TEST(StoreConformanceTest, StoresEveryFieldBitForBit) {
  NewOp op;
  op.id = {0xFFFF'FFFF'FFFF'FFFFull, 0x8000'0000'0000'0001ull};
  op.user_id = "user-\xc3\xa9";
  op.server_time_ms = -5;
  op.parents = std::string("\0\x01\xff", 3);
  op.payload = std::string("a\0b\xfe", 4);
  NewOp empty = MakeOp(2, 1);
  empty.payload.clear();
  empty.parents.clear();
  ASSERT_TRUE(this->Append("d", {op, empty}).ok());
  auto ops = this->store_->ReadOps("d", 0);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  ASSERT_EQ(ops->size(), 2u);
  StoredOp want{1,          op.id,     op.user_id, op.server_time_ms,
                op.parents, op.payload};
  EXPECT_EQ((*ops)[0], want);
  EXPECT_EQ((*ops)[1].payload, "");
  EXPECT_EQ((*ops)[1].parents, "");
  auto found = this->store_->FindOp("d", op.id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, 1);
  EXPECT_EQ(this->store_->FindOp("d", {9, 9}).status().code(),
            StatusCode::kNotFound);
}

TYPED_TEST(StoreConformanceTest, ReadsOpsAfterASeqWithALimit) {
  std::vector<NewOp> batch;
  for (std::uint64_t i = 1; i <= 10; ++i) batch.push_back(MakeOp(1, i));
  ASSERT_TRUE(this->Append("d", batch).ok());
  auto ops = this->store_->ReadOps("d", 4, 3);
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 3u);
  EXPECT_EQ((*ops)[0].seq, 5);
  EXPECT_EQ((*ops)[2].seq, 7);
  auto tail = this->store_->ReadOps("d", 8);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->size(), 2u);
  auto none = this->store_->ReadOps("d", 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto unknown = this->store_->ReadOps("nope", 0);
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->empty());
  auto last = this->store_->LastSeq("nope");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 0);
}

TYPED_TEST(StoreConformanceTest, ConcurrentAppendsStayGapFreeAndExactlyOnce) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 1; i <= kPerThread; ++i) {
        // Two docs shared by all threads; every op sent twice (a retry).
        std::string doc = (t % 2 == 0) ? "even" : "odd";
        auto op = MakeOp(static_cast<std::uint64_t>(t) + 1,
                         static_cast<std::uint64_t>(i));
        auto a = this->store_->Append(doc, std::vector<NewOp>{op});
        auto b = this->store_->Append(doc, std::vector<NewOp>{op});
        if (!a.ok() || !b.ok() || a->seqs != b->seqs || !b->duplicate[0]) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (const char* doc : {"even", "odd"}) {
    auto ops = this->store_->ReadOps(doc, 0);
    ASSERT_TRUE(ops.ok());
    ASSERT_EQ(ops->size(), std::size_t{kThreads / 2 * kPerThread});
    std::set<OpId> ids;
    for (std::size_t i = 0; i < ops->size(); ++i) {
      EXPECT_EQ((*ops)[i].seq, static_cast<std::int64_t>(i + 1));
      ids.insert((*ops)[i].id);
    }
    EXPECT_EQ(ids.size(), ops->size());
  }
}

// Retries queued together (so that group commit likely puts them in one
// transaction) store each op id once per document, all reporting its seq.
TYPED_TEST(StoreConformanceTest, RetriesQueuedTogetherAreStoredOnce) {
  std::vector<NewOp> busy;
  for (std::uint64_t i = 1; i <= 500; ++i) busy.push_back(MakeOp(1, i));
  constexpr int kRepeats = 4;
  std::vector<std::promise<Result<AppendResult>>> promises(1 + 2 * kRepeats);
  auto submit = [&](std::size_t slot, const char* doc, std::vector<NewOp> ops) {
    this->store_->AppendAsync(doc, std::move(ops),
                              [&promises, slot](Result<AppendResult> r) {
                                promises[slot].set_value(std::move(r));
                              });
  };
  submit(0, "busy", busy);  // keeps the committer busy while the rest queue
  for (int r = 0; r < kRepeats; ++r) {
    auto slot = static_cast<std::size_t>(1 + 2 * r);
    submit(slot, "d", {MakeOp(9, 1), MakeOp(9, 2), MakeOp(9, 1)});
    submit(slot + 1, "e", {MakeOp(9, 1)});
  }
  ASSERT_TRUE(promises[0].get_future().get().ok());
  int new_d = 0, new_e = 0;
  for (int r = 0; r < kRepeats; ++r) {
    auto slot = static_cast<std::size_t>(1 + 2 * r);
    auto d = promises[slot].get_future().get();
    auto e = promises[slot + 1].get_future().get();
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(d->seqs, (std::vector<std::int64_t>{1, 2, 1}));
    EXPECT_TRUE(d->duplicate[2]);
    EXPECT_EQ(d->last_seq, 2);
    EXPECT_EQ(e->seqs, std::vector<std::int64_t>{1});
    EXPECT_EQ(e->last_seq, 1);
    new_d += static_cast<int>(d->new_count);
    new_e += static_cast<int>(e->new_count);
    if (d->new_count == 2) {
      EXPECT_EQ(d->first_new_seq, 1);
    }
  }
  EXPECT_EQ(new_d, 2);
  EXPECT_EQ(new_e, 1);
  EXPECT_EQ(*this->store_->LastSeq("d"), 2);
  EXPECT_EQ(*this->store_->LastSeq("e"), 1);
}

TYPED_TEST(StoreConformanceTest, AppendAsyncCallsBackOnceAfterTheOpIsStored) {
  constexpr int kN = 50;
  std::vector<std::promise<Result<AppendResult>>> promises(kN);
  for (int i = 0; i < kN; ++i) {
    this->store_->AppendAsync(
        "d", {MakeOp(7, static_cast<std::uint64_t>(i) + 1)},
        [this, &promises, i](Result<AppendResult> r) {
          // When the callback runs, the op is readable.
          if (r.ok()) {
            auto found = this->store_->FindOp(
                "d", OpId{7, static_cast<std::uint64_t>(i) + 1});
            if (!found.ok() || *found != r->seqs[0]) {
              r = Status::Internal("acknowledged op not stored");
            }
          }
          promises[static_cast<std::size_t>(i)].set_value(std::move(r));
        });
  }
  std::set<std::int64_t> seqs;
  for (auto& p : promises) {
    auto r = p.get_future().get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    seqs.insert(r->seqs[0]);
  }
  EXPECT_EQ(seqs.size(), std::size_t{kN});
  EXPECT_EQ(*seqs.begin(), 1);
  EXPECT_EQ(*seqs.rbegin(), kN);
}

TYPED_TEST(StoreConformanceTest, LoadsLatestSnapshotPlusTrailingOps) {
  std::vector<NewOp> batch;
  for (std::uint64_t i = 1; i <= 10; ++i) batch.push_back(MakeOp(1, i));
  ASSERT_TRUE(this->Append("d", batch).ok());
  EXPECT_EQ(this->store_->LatestSnapshot("d").status().code(),
            StatusCode::kNotFound);
  auto all = this->store_->LoadDocument("d");
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->snapshot.has_value());
  EXPECT_EQ(all->ops.size(), 10u);
  EXPECT_EQ(all->last_seq, 10);

  ASSERT_TRUE(this->store_->SaveSnapshot({"d", 4, 100, "state@4"}).ok());
  ASSERT_TRUE(this->store_->SaveSnapshot({"d", 7, 200, "state@7"}).ok());
  ASSERT_TRUE(this->store_->SaveSnapshot({"d", 7, 300, "state@7b"}).ok());
  auto snap = this->store_->LatestSnapshot("d");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(*snap, (Snapshot{"d", 7, 300, "state@7b"}));
  auto loaded = this->store_->LoadDocument("d");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_TRUE(loaded->snapshot.has_value());
  EXPECT_EQ(loaded->snapshot->last_included_seq, 7);
  ASSERT_EQ(loaded->ops.size(), 3u);
  EXPECT_EQ(loaded->ops[0].seq, 8);
  EXPECT_EQ(loaded->last_seq, 10);
}

TYPED_TEST(StoreConformanceTest, LoadsTheUserOfEachClientIdsFirstOp) {
  // Client 1's first op is compacted below; client 2 writes as another
  // user later (that does not change whose client id 2 is); client 3 has
  // no op at local_seq 0; client 2^64 - 1 is stored bit-for-bit.
  NewOp other = MakeOp(2, 1);
  other.user_id = "someone else";
  ASSERT_TRUE(
      this->Append("d", {MakeOp(1, 0), MakeOp(2, 0), MakeOp(1, 1)}).ok());
  ASSERT_TRUE(
      this->Append("d", {other, MakeOp(3, 5), MakeOp(UINT64_MAX, 0)}).ok());
  ASSERT_TRUE(this->Append("e", {MakeOp(4, 0)}).ok());
  ASSERT_TRUE(this->store_->SaveSnapshot({"d", 3, 0, "s3"}).ok());
  ASSERT_TRUE(this->store_->Compact("d", 3).ok());
  auto loaded = this->store_->LoadDocument("d");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  std::vector<Writer> writers = loaded->writers;
  std::sort(writers.begin(), writers.end(),
            [](const Writer& a, const Writer& b) {
              return a.client_id < b.client_id;
            });
  EXPECT_EQ(
      writers,
      (std::vector<Writer>{
          {1, "u1"}, {2, "u2"}, {UINT64_MAX, MakeOp(UINT64_MAX, 0).user_id}}));
}

TYPED_TEST(StoreConformanceTest, RejectsSnapshotsOutsideTheLog) {
  EXPECT_EQ(this->store_->SaveSnapshot({"d", 1, 0, "s"}).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(this->Append("d", {MakeOp(1, 1)}).ok());
  EXPECT_EQ(this->store_->SaveSnapshot({"d", 2, 0, "s"}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->SaveSnapshot({"d", 0, 0, "s"}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->LoadDocument("nope").status().code(),
            StatusCode::kNotFound);
}

TYPED_TEST(StoreConformanceTest, DeleteDocumentRemovesItsContentOnly) {
  std::vector<NewOp> batch;
  for (std::uint64_t i = 1; i <= 6; ++i) batch.push_back(MakeOp(1, i));
  ASSERT_TRUE(this->Append("gone", batch).ok());
  ASSERT_TRUE(this->Append("kept", {MakeOp(1, 1)}).ok());
  ASSERT_TRUE(this->store_->SaveSnapshot({"gone", 4, 0, "s4"}).ok());
  ASSERT_TRUE(this->store_->Compact("gone", 4).ok());
  ASSERT_TRUE(this->store_->DeleteDocument("gone").ok());
  EXPECT_EQ(this->store_->LoadDocument("gone").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(*this->store_->LastSeq("gone"), 0);
  EXPECT_EQ(this->store_->FindOp("gone", {1, 1}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(this->store_->LatestSnapshot("gone").status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(this->store_->DeleteDocument("gone").ok());   // again
  EXPECT_TRUE(this->store_->DeleteDocument("never").ok());  // unknown
  EXPECT_EQ(*this->store_->LastSeq("kept"), 1);
  EXPECT_TRUE(this->store_->Verify(nullptr).ok());
}

TYPED_TEST(StoreConformanceTest, CompactionKeepsRetriesRecognised) {
  std::vector<NewOp> batch;
  for (std::uint64_t i = 1; i <= 6; ++i) batch.push_back(MakeOp(1, i));
  ASSERT_TRUE(this->Append("d", batch).ok());
  EXPECT_EQ(this->store_->Compact("d", 4).code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(this->store_->SaveSnapshot({"d", 2, 0, "s2"}).ok());
  ASSERT_TRUE(this->store_->SaveSnapshot({"d", 4, 0, "s4"}).ok());
  ASSERT_TRUE(this->store_->Compact("d", 4).ok());

  // A retry of a compacted op returns its original seq and stores nothing.
  auto r = this->Append("d", {MakeOp(1, 3), MakeOp(1, 7)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->seqs, (std::vector<std::int64_t>{3, 7}));
  EXPECT_EQ(r->duplicate, (std::vector<bool>{true, false}));

  EXPECT_EQ(this->store_->ReadOps("d", 0).status().code(),
            StatusCode::kFailedPrecondition);
  auto tail = this->store_->ReadOps("d", 4);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->size(), 3u);
  auto loaded = this->store_->LoadDocument("d");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->snapshot->state, "s4");
  EXPECT_EQ(loaded->ops.size(), 3u);
  // Older snapshots went with the compaction; compacting again is harmless.
  EXPECT_EQ(this->store_->Compact("d", 2).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(this->store_->Compact("d", 4).ok());
  EXPECT_TRUE(this->store_->Verify(nullptr).ok());
}

TYPED_TEST(StoreConformanceTest, VerifyRunsTheSnapshotValidator) {
  ASSERT_TRUE(this->Append("good", {MakeOp(1, 1)}).ok());
  ASSERT_TRUE(this->Append("bad", {MakeOp(1, 1)}).ok());
  ASSERT_TRUE(this->store_->SaveSnapshot({"good", 1, 0, "ok"}).ok());
  ASSERT_TRUE(this->store_->SaveSnapshot({"bad", 1, 0, "garbage"}).ok());
  std::vector<std::string> seen;
  auto validator = [&](std::string_view doc, std::string_view state) {
    seen.emplace_back(doc);
    return state == "ok" ? Status::Ok() : Status::Corruption("bad magic");
  };
  Status s = this->store_->Verify(validator);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("bad"), std::string::npos) << s.message();
  EXPECT_FALSE(seen.empty());
  ASSERT_TRUE(this->store_->SaveSnapshot({"bad", 1, 0, "ok"}).ok());
  EXPECT_TRUE(this->store_->Verify(validator).ok());
}

TYPED_TEST(DurableStoreTest, EverythingSurvivesReopen) {
  ASSERT_TRUE(this->Append("d", {MakeOp(1, 1), MakeOp(1, 2)}).ok());
  ASSERT_TRUE(this->store_->SaveSnapshot({"d", 1, 5, "s1"}).ok());
  ASSERT_TRUE(this->Reopen());
  auto loaded = this->store_->LoadDocument("d");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->snapshot->state, "s1");
  ASSERT_EQ(loaded->ops.size(), 1u);
  EXPECT_EQ(loaded->ops[0].payload, "op:1:2");
  auto r = this->Append("d", {MakeOp(1, 2), MakeOp(1, 3)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->seqs, (std::vector<std::int64_t>{2, 3}));
  EXPECT_TRUE(this->store_->Verify(nullptr).ok());
}

TYPED_TEST(StoreConformanceTest, ExportImportKeepsSeqsOpIdsAndCompaction) {
  std::vector<NewOp> batch;
  for (std::uint64_t i = 1; i <= 6; ++i) batch.push_back(MakeOp(1, i));
  ASSERT_TRUE(this->Append("d", batch).ok());
  ASSERT_TRUE(this->store_->SaveSnapshot({"d", 4, 9, "s4"}).ok());
  ASSERT_TRUE(this->store_->Compact("d", 4).ok());
  auto dump = this->store_->ExportDocument("d");
  ASSERT_TRUE(dump.ok()) << dump.status().ToString();
  ASSERT_EQ(dump->ops.size(), 6u);
  EXPECT_EQ(dump->compacted,
            (std::vector<bool>{true, true, true, true, false, false}));
  EXPECT_EQ(dump->ops[5].payload, "op:1:6");
  EXPECT_EQ(dump->snapshot->state, "s4");

  // Through the file format, under another id.
  auto decoded = DecodeDocumentDump(EncodeDocumentDump(*dump));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  DocumentDump copy = *decoded;
  copy.doc_id = "copy";
  copy.snapshot->doc_id = "copy";
  ASSERT_TRUE(this->store_->ImportDocument(copy).ok());
  EXPECT_EQ(this->store_->ImportDocument(copy).code(),
            StatusCode::kAlreadyExists);
  auto again = this->store_->ExportDocument("copy");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, copy);
  // The imported document behaves like the original: a retried compacted op
  // is recognised, new ops continue the seqs.
  auto r = this->Append("copy", {MakeOp(1, 2), MakeOp(2, 1)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->seqs, (std::vector<std::int64_t>{2, 7}));
  EXPECT_TRUE(this->store_->Verify(nullptr).ok());
  EXPECT_EQ(this->store_->ExportDocument("none").status().code(),
            StatusCode::kNotFound);
  DocumentDump bad = copy;
  bad.doc_id = "bad";
  bad.snapshot.reset();  // compacted ops no longer covered
  EXPECT_EQ(this->store_->ImportDocument(bad).code(),
            StatusCode::kInvalidArgument);
}

// Property: any sequence of batches (with retries, repeats inside a batch
// and several documents) leaves each document's log equal to a model where
// each distinct op id gets the next seq at its first appearance.
TYPED_TEST(StoreConformanceTest, PropertyMatchesTheSequentialModel) {
  int run = 0;
  const bool ok = rc::check("log equals model", [&] {
    std::string prefix = "prop" + std::to_string(run++) + "-";
    auto batches = *rc::gen::container<std::vector<
        std::vector<std::tuple<int, std::uint64_t, std::uint64_t>>>>(
        *rc::gen::inRange<std::size_t>(1, 6),
        rc::gen::nonEmpty(
            rc::gen::container<
                std::vector<std::tuple<int, std::uint64_t, std::uint64_t>>>(
                rc::gen::tuple(rc::gen::inRange(0, 2),
                               rc::gen::inRange<std::uint64_t>(0, 3),
                               rc::gen::inRange<std::uint64_t>(0, 4)))));
    std::map<std::string, std::map<OpId, std::int64_t>> model;
    std::map<std::string, std::int64_t> last;
    for (const auto& batch : batches) {
      // One document per batch (the first element chooses it).
      std::string doc = prefix + std::to_string(std::get<0>(batch[0]));
      std::vector<NewOp> ops;
      std::vector<std::int64_t> want;
      for (const auto& [d, c, l] : batch) {
        ops.push_back(MakeOp(c, l));
        auto& ids = model[doc];
        auto it = ids.find(OpId{c, l});
        if (it == ids.end()) it = ids.emplace(OpId{c, l}, ++last[doc]).first;
        want.push_back(it->second);
      }
      auto r = this->store_->Append(doc, ops);
      RC_ASSERT(r.ok());
      RC_ASSERT(r->seqs == want);
      RC_ASSERT(r->last_seq == last[doc]);
    }
    for (const auto& [doc, ids] : model) {
      auto ops = this->store_->ReadOps(doc, 0);
      RC_ASSERT(ops.ok());
      RC_ASSERT(ops->size() == ids.size());
      for (const StoredOp& op : *ops) RC_ASSERT(ids.at(op.id) == op.seq);
    }
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace weft::store::testing
