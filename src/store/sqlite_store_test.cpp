// SQLite-specific tests: durability under a simulated power loss (the
// fault-injecting VFS), migrations and the recovery checks on open.
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "store/sqlite_backup.h"
#include "store/sqlite_fault_vfs.h"
#include "store/sqlite_wal_buffer_vfs.h"
#include "store/store_test_backends.h"
#include "store/store_test_workload.h"

namespace weft::store::testing {
namespace {

// Opens the store of `opts` again on the real file system after
// FaultVfs::Crash() (the store that crashed closed first): a power loss
// loses the shared-memory index too.
Result<std::unique_ptr<Store>> ReopenAfterPowerLoss(SqliteOptions opts) {
  std::filesystem::remove(opts.path + "-shm");
  FaultVfs::Get("weft-fault")->Reset();
  opts.vfs.clear();
  return OpenSqliteStore(opts);
}

// Runs writers against a store on the fault VFS, "loses power" after a
// random number of acknowledgements while appends are in flight, reopens on
// the real file system and checks every acknowledged op. Returns the report
// of the last round that lost something, or of the last round.
CheckReport PowerLossRounds(bool synchronous_full, int rounds,
                            std::uint32_t seed) {
  FaultVfs* vfs = FaultVfs::Get("weft-fault");
  TempDir dir;
  std::mt19937 rng(seed);
  std::vector<std::string> docs = {"a", "b", "c"};
  std::vector<AckedOp> acked;
  std::uint64_t next_local[4] = {1, 1, 1, 1};
  CheckReport result;
  SqliteOptions opts;
  opts.path = dir.path() + "/fault.db";
  opts.synchronous_full = synchronous_full;
  // Checkpoints (the writer's, the background thread's) and restarts of the
  // WAL happen while the power goes.
  opts.wal_checkpoint_pages = 8;
  for (int round = 0; round < rounds; ++round) {
    vfs->Reset();
    opts.vfs = vfs->name();
    auto store = OpenSqliteStore(opts);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return result;
    std::mutex mu;
    std::atomic<int> acks{0};
    const int crash_after = 5 + static_cast<int>(rng() % 60);
    std::vector<std::thread> writers;
    for (std::uint64_t t = 0; t < 4; ++t) {
      writers.emplace_back([&, t] {
        std::mt19937 r(seed + static_cast<std::uint32_t>(round * 4 + t));
        for (;;) {
          std::vector<NewOp> batch;
          std::uint64_t n = 1 + r() % 4;
          std::uint64_t first;
          {
            std::lock_guard<std::mutex> lock(mu);
            first = next_local[t];
            next_local[t] += n;
          }
          for (std::uint64_t i = 0; i < n; ++i) {
            batch.push_back(OpFor({t + 1, first + i}));
          }
          const std::string& doc = docs[r() % docs.size()];
          auto res = (*store)->Append(doc, batch);
          if (!res.ok()) return;  // the "power" is gone
          std::lock_guard<std::mutex> lock(mu);
          for (std::size_t i = 0; i < batch.size(); ++i) {
            acked.push_back({doc, batch[i].id, res->seqs[i]});
          }
          ++acks;
        }
      });
    }
    while (acks.load() < crash_after) std::this_thread::yield();
    vfs->Crash();
    for (auto& w : writers) w.join();
    store->reset();
    auto reopened = ReopenAfterPowerLoss(opts);
    EXPECT_TRUE(reopened.ok()) << reopened.status().ToString();
    if (!reopened.ok()) return result;
    auto report = CheckAcknowledged(**reopened, docs, acked);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    if (!report.ok()) return result;
    result = *report;
    if (report->missing > 0) return result;
    EXPECT_TRUE((*reopened)->Verify(nullptr).ok());
  }
  return result;
}

TEST(SqliteFaultTest, NothingIsAcknowledgedBeforeItIsDurable) {
  long syncs_before = FaultVfs::Get("weft-fault")->syncs();
  CheckReport r = PowerLossRounds(/*synchronous_full=*/true, 8, 20261122);
  EXPECT_EQ(r.missing, 0u) << r.first_problem;
  EXPECT_GT(r.stored, 0u);
  EXPECT_GT(FaultVfs::Get("weft-fault")->syncs(), syncs_before);
}

// The control: a store that acknowledges before fsync (synchronous=OFF) is
// caught by the same check, so the test above can fail.
TEST(SqliteFaultTest, TheCheckCatchesAStoreThatSkipsFsync) {
  CheckReport r = PowerLossRounds(/*synchronous_full=*/false, 3, 7);
  EXPECT_GT(r.missing, 0u);
}

// The fault VFS models a file, not a handle: SQLite's checkpoint syncs the
// WAL through its own connection's handle and relies on that to make the
// frames another connection wrote durable (the deferred WAL sync depends on
// it too), and closing a handle does not make its writes durable.
class FaultVfsFileTest : public ::testing::Test {
 protected:
  struct Handle {
    std::unique_ptr<char[]> mem;
    sqlite3_file* file = nullptr;
  };
  Handle Open() {
    sqlite3_vfs* v = sqlite3_vfs_find(vfs_->name().c_str());
    Handle h{std::make_unique<char[]>(static_cast<std::size_t>(v->szOsFile)),
             nullptr};
    h.file = reinterpret_cast<sqlite3_file*>(h.mem.get());
    int out = 0;
    EXPECT_EQ(v->xOpen(v, path_.c_str(), h.file,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                           SQLITE_OPEN_MAIN_DB,
                       &out),
              SQLITE_OK);
    return h;
  }
  static void Write(Handle& h, const std::string& bytes, int offset) {
    ASSERT_EQ(h.file->pMethods->xWrite(h.file, bytes.data(),
                                       static_cast<int>(bytes.size()), offset),
              SQLITE_OK);
  }
  static void Sync(Handle& h) {
    ASSERT_EQ(h.file->pMethods->xSync(h.file, SQLITE_SYNC_NORMAL), SQLITE_OK);
  }
  static void Close(Handle& h) {
    ASSERT_EQ(h.file->pMethods->xClose(h.file), SQLITE_OK);
  }
  std::string Contents() const {
    std::ifstream in(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void SetUp() override { vfs_->Reset(); }
  void TearDown() override { vfs_->Reset(); }

  FaultVfs* vfs_ = FaultVfs::Get("weft-fault");
  TempDir dir_;
  std::string path_ = dir_.path() + "/file";
};

TEST_F(FaultVfsFileTest, ASyncThroughOneHandleCoversWritesThroughAnother) {
  Handle writer = Open();
  Handle syncer = Open();
  Write(writer, "durable", 0);
  Sync(syncer);
  Write(writer, "-lost", 7);
  vfs_->Crash();
  EXPECT_EQ(Contents(), "durable");
  Close(writer);
  Close(syncer);
}

TEST_F(FaultVfsFileTest, ClosingAHandleDoesNotMakeItsWritesDurable) {
  Handle first = Open();
  Write(first, "synced", 0);
  Sync(first);
  Write(first, "+unsynced", 6);
  Close(first);
  Handle second = Open();  // a file's later handle sees the writes...
  char buf[15] = {};
  ASSERT_EQ(second.file->pMethods->xRead(second.file, buf, 15, 0), SQLITE_OK);
  EXPECT_EQ(std::string(buf, 15), "synced+unsynced");
  Close(second);
  vfs_->Crash();  // ...but a power loss still takes them away
  EXPECT_EQ(Contents(), "synced");
}

TEST_F(FaultVfsFileTest, AFileMadeAgainBehindItsBackIsLeftAlone) {
  Handle first = Open();
  Write(first, "unsynced", 0);
  Close(first);
  std::filesystem::remove(path_);  // as a test's temporary directory goes
  std::ofstream(path_) << "another file";
  vfs_->Crash();  // the old file's undo records must not touch the new one
  EXPECT_EQ(Contents(), "another file");
}

// Every commit appends frames to the WAL; unless checkpoints catch up with
// them and the WAL starts again from its beginning, the file grows with
// every commit (and so does the cost of each fsync).
TEST(SqliteWalTest, TheWalStartsAgainInsteadOfGrowing) {
  TempDir dir;
  SqliteOptions opts;
  opts.path = dir.path() + "/wal.db";
  opts.wal_checkpoint_pages = 256;
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string payload(1500, 'x');
  constexpr int kCommits = 1500;
  for (int i = 0; i < kCommits; ++i) {
    std::vector<NewOp> batch;
    for (std::uint64_t k = 0; k < 3; ++k) {
      NewOp op = OpFor({1, static_cast<std::uint64_t>(i) * 3 + k + 1});
      op.payload = payload;
      batch.push_back(op);
    }
    auto r = (*store)->Append("doc-" + std::to_string(i % 8), batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  auto wal = std::filesystem::file_size(opts.path + "-wal");
  // It stays near the 256 pages (0.5 MB) at which checkpoints start: 0.8 to
  // 2.2 MB measured. Without the writer copying the tail it reached 14-16
  // MB (the WAL restarted only when the background thread happened to
  // catch up), and about 60 MB before 2 KiB pages.
  EXPECT_LT(wal, std::uintmax_t{kCommits} * 4 * 1024);
  auto last = (*store)->LastSeq("doc-7");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, kCommits / 8 * 3);
}

// Commits far larger than one write call of the unix VFS (128 KiB) and than
// the WAL buffer's limit (4 MiB) go through whole and survive a reopen.
TEST(SqliteWalTest, LargeCommitsSurviveTheWalBuffer) {
  TempDir dir;
  SqliteOptions opts;
  opts.path = dir.path() + "/big.db";
  std::vector<std::vector<NewOp>> batches(2);
  std::uint64_t local = 0;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const std::size_t n = b == 0 ? 50 : 700;  // ~400 KB, ~5.6 MB
    for (std::size_t i = 0; i < n; ++i) {
      NewOp op = OpFor({1, ++local});
      op.payload = std::string(8000, static_cast<char>('a' + local % 26));
      batches[b].push_back(op);
    }
  }
  {
    auto store = OpenSqliteStore(opts);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (const auto& batch : batches) {
      auto r = (*store)->Append("doc", batch);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto ops = (*store)->ReadOps("doc", 0);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  ASSERT_EQ(ops->size(), std::size_t{local});
  for (const StoredOp& op : *ops) {
    EXPECT_EQ(op.payload,
              std::string(8000, static_cast<char>('a' + op.id.local_seq % 26)));
  }
}

// Options for a store in `dir` on the fault VFS, whose faults are reset.
SqliteOptions OnFaultVfs(const TempDir& dir, const std::string& file) {
  FaultVfs* vfs = FaultVfs::Get("weft-fault");
  vfs->Reset();
  SqliteOptions opts;
  opts.path = dir.path() + "/" + file;
  opts.vfs = vfs->name();
  return opts;
}

// WAL write calls that reach the VFS below the store for `commits`
// single-op appends (synchronous=FULL puts the WAL buffer in between).
long WalWritesFor(bool synchronous_full, int commits) {
  FaultVfs* vfs = FaultVfs::Get("weft-fault");
  vfs->Reset();
  TempDir dir;
  SqliteOptions opts;
  opts.path = dir.path() + "/writes.db";
  opts.synchronous_full = synchronous_full;
  opts.vfs = vfs->name();
  auto store = OpenSqliteStore(opts);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return -1;
  std::uint64_t local = 0;
  auto append = [&] {
    std::vector<NewOp> one{OpFor({1, ++local})};
    EXPECT_TRUE((*store)->Append("doc", one).ok());
  };
  append();
  long before = vfs->wal_writes();
  for (int i = 0; i < commits; ++i) append();
  return vfs->wal_writes() - before;
}

// SQLite writes a WAL frame in two calls (header, page) and a commit has at
// least one frame per changed page; the WAL buffer hands each commit's
// frames down in one call before the commit's fsync.
TEST(SqliteWalTest, TheWalBufferWritesEachCommitInOneCall) {
  constexpr int kCommits = 40;
  long buffered = WalWritesFor(/*synchronous_full=*/true, kCommits);
  long direct = WalWritesFor(/*synchronous_full=*/false, kCommits);
  EXPECT_LE(buffered, kCommits + 2);  // (a checkpoint may restart the WAL)
  EXPECT_GE(direct, 2 * kCommits);
}

// A buffered WAL write that fails is not acknowledged: the append whose
// frames it carried fails, and after a reopen the store holds exactly the
// appends that succeeded.
TEST(SqliteWalTest, AFailedBufferedWalWriteFailsItsAppend) {
  FaultVfs* vfs = FaultVfs::Get("weft-fault");
  TempDir dir;
  SqliteOptions opts = OnFaultVfs(dir, "failed.db");
  std::uint64_t local = 0, acked = 0;
  {
    auto store = OpenSqliteStore(opts);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto append = [&] {
      std::vector<NewOp> one{OpFor({1, ++local})};
      bool ok = (*store)->Append("doc", one).ok();
      if (ok) ++acked;
      return ok;
    };
    ASSERT_TRUE(append());
    vfs->FailNextWalWrite();
    EXPECT_FALSE(append());
    for (int i = 0; i < 3; ++i) append();
  }
  vfs->Reset();
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto ops = (*store)->ReadOps("doc", 0);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ(ops->size(), acked);
}

// Group commit puts the WAL fsync off to before the callbacks. When that
// fsync fails, the append whose commit it was to make durable fails, and the
// store refuses every later write and read (after a failed fsync the kernel
// may have dropped the pages, and a later fsync would not say so) until it
// is reopened; what was acknowledged is still there.
TEST(SqliteWalTest, AFailedDeferredFsyncFailsItsAppendAndStopsTheStore) {
  FaultVfs* vfs = FaultVfs::Get("weft-fault");
  TempDir dir;
  SqliteOptions opts = OnFaultVfs(dir, "fsync.db");
  {
    auto store = OpenSqliteStore(opts);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    // Opening synced the WAL (migrations), so these syncs are deferred.
    for (std::uint64_t i = 1; i <= 2; ++i) {
      ASSERT_TRUE(AppendOp(**store, "doc", {1, i}).ok());
    }
    vfs->FailNextWalSync();
    auto failed = AppendOp(**store, "doc", {1, 3});
    ASSERT_FALSE(failed.ok());
    EXPECT_NE(failed.status().message().find("fsync"), std::string::npos)
        << failed.status().ToString();
    auto later = AppendOp(**store, "doc", {1, 4});
    ASSERT_FALSE(later.ok());
    EXPECT_EQ(later.status().code(), StatusCode::kUnavailable);
    EXPECT_FALSE((*store)->ReadOps("doc", 0).ok());
    // What weftd's readiness probe asks: it must say the store is unusable.
    EXPECT_FALSE((*store)->LastSeq("readyz-probe").ok());
  }
  vfs->Reset();
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto r = AppendOp(**store, "doc", {1, 5});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ops = (*store)->ReadOps("doc", 0);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  // 1 and 2 were acknowledged; 3 was committed but not acknowledged (its
  // fsync failed), so it may be there; 4 never ran.
  ASSERT_GE(ops->size(), 3u);
  EXPECT_EQ((*ops)[0].id.local_seq, 1u);
  EXPECT_EQ((*ops)[1].id.local_seq, 2u);
  EXPECT_EQ(ops->back().id.local_seq, 5u);
  for (const StoredOp& op : *ops) EXPECT_NE(op.id.local_seq, 4u);
}

// Linux reports a failed writeback to one fsync of a file description only.
// When another sync of the WAL (a checkpoint, a metadata commit) is the one
// that fails, the deferred sync of a commit made before it must fail too.
TEST(SqliteWalTest, ADeferredSyncFailsWhenAnotherSyncOfTheWalFailed) {
  FaultVfs* vfs = FaultVfs::Get("weft-fault");
  vfs->Reset();
  TempDir dir;
  const std::string vfs_name = WalBufferVfs(vfs->name());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir.path() + "/raw.db").c_str(), &db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            vfs_name.c_str()),
            SQLITE_OK);
  auto exec = [&](const char* sql) {
    return sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  };
  ASSERT_EQ(exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                 "CREATE TABLE t (x)"),
            SQLITE_OK);
  DeferredWalSync deferred;
  {
    DeferWalSyncs scope(&deferred);
    ASSERT_EQ(exec("INSERT INTO t VALUES (1)"), SQLITE_OK);
  }
  ASSERT_NE(deferred.file.load(), nullptr);  // the commit's sync was put off
  vfs->FailNextWalSync();
  EXPECT_NE(exec("INSERT INTO t VALUES (2)"), SQLITE_OK);  // a real sync
  EXPECT_NE(SyncDeferredWal(deferred), SQLITE_OK);
  // And every later commit: its frames would follow the lost ones.
  EXPECT_NE(exec("INSERT INTO t VALUES (3)"), SQLITE_OK);
  sqlite3_close(db);
}

// SQLite syncs a WAL's header before the frames that follow it (when the
// WAL starts again after a checkpoint): otherwise a power loss could leave
// new frames under the old header, and recovery would replay a stale prefix
// of the old WAL. Deferring commit syncs must not defer that one.
TEST(SqliteWalTest, TheWalHeaderIsSyncedBeforeTheFramesAfterIt) {
  FaultVfs* vfs = FaultVfs::Get("weft-fault");
  TempDir dir;
  SqliteOptions opts = OnFaultVfs(dir, "header.db");
  opts.wal_checkpoint_pages = 8;  // the WAL starts again often
  long headers_before = vfs->wal_header_writes();
  long bad_before = vfs->frames_under_unsynced_header();
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  // How often the WAL starts again depends on when the background
  // checkpointer gets a core: append until it has restarted a few times.
  for (std::uint64_t i = 1;
       i <= 300 ||
       (vfs->wal_header_writes() - headers_before <= 5 && i <= 20000);
       ++i) {
    auto r = AppendOp(**store, "doc-" + std::to_string(i % 5), {1, i});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  store->reset();
  EXPECT_GT(vfs->wal_header_writes() - headers_before, 5);  // restarts
  EXPECT_EQ(vfs->frames_under_unsynced_header() - bad_before, 0);
}

// A read syncs what was committed before it reads, so nothing is read back
// (and sent to a subscriber) that a power loss could still take away: with
// the completer's fsync slowed down, an op seen by ReadOps right after its
// commit survives a power loss at that moment.
TEST(SqliteWalTest, WhatAReadReturnsIsDurable) {
  FaultVfs* vfs = FaultVfs::Get("weft-fault");
  TempDir dir;
  SqliteOptions opts = OnFaultVfs(dir, "read.db");
  {
    auto store = OpenSqliteStore(opts);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE(AppendOp(**store, "doc", {1, 1}).ok());
    vfs->SetWalSyncDelay(std::chrono::milliseconds(300));
    (*store)->AppendAsync("doc", {OpFor({1, 2})}, [](Result<AppendResult>) {});
    bool seen = false;
    for (int i = 0; i < 2000 && !seen; ++i) {
      auto ops = (*store)->ReadOps("doc", 0);
      ASSERT_TRUE(ops.ok()) << ops.status().ToString();
      seen = ops->size() == 2;
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(seen);
    vfs->Crash();  // the power goes the moment the read returned
  }
  auto store = ReopenAfterPowerLoss(opts);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto ops = (*store)->ReadOps("doc", 0);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ(ops->size(), 2u);
}

// With the fsync inside each commit too, a failed WAL fsync fails its
// commit and every later one until the store is reopened: the kernel
// reports the lost writeback once, and later frames would follow lost
// ones. After a reopen the store works and holds what was acknowledged.
TEST(SqliteWalTest, AFailedFsyncInsideACommitFailsEveryLaterCommit) {
  FaultVfs* vfs = FaultVfs::Get("weft-fault");
  TempDir dir;
  SqliteOptions opts = OnFaultVfs(dir, "inline.db");
  opts.defer_wal_sync = false;
  {
    auto store = OpenSqliteStore(opts);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE(AppendOp(**store, "doc", {1, 1}).ok());
    vfs->FailNextWalSync();
    EXPECT_FALSE(AppendOp(**store, "doc", {1, 2}).ok());
    EXPECT_FALSE(AppendOp(**store, "doc", {1, 3}).ok());
  }
  vfs->Reset();
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE(AppendOp(**store, "doc", {1, 4}).ok());
  auto ops = (*store)->ReadOps("doc", 0);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  // 2 and 3 were not acknowledged; their frames reached the file (the fault
  // lost nothing), so the last of them may be back after recovery.
  ASSERT_GE(ops->size(), 2u);
  EXPECT_EQ(ops->front().id.local_seq, 1u);
  EXPECT_EQ(ops->back().id.local_seq, 4u);
  EXPECT_TRUE((*store)->Verify(nullptr).ok());
}

std::int64_t PageSize(const std::string& path) {
  sqlite3* db = nullptr;
  std::int64_t size = -1;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      size = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return size;
}

// Runs `sql` on the database file at `path` through a connection of its own
// (what a damaged or older file looks like); SQLite's result code.
int ExecSql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open(path.c_str(), &db);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return rc;
}

// New stores use 2 KiB pages (fewer bytes per commit); a store created with
// SQLite's default 4 KiB pages keeps them and keeps working.
TEST(SqliteWalTest, NewStoresUseSmallPagesAndOldOnesKeepTheirs) {
  TempDir dir;
  SqliteOptions opts;
  opts.path = dir.path() + "/new.db";
  {
    auto store = OpenSqliteStore(opts);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE(AppendOp(**store, "doc", {1, 1}).ok());
  }
  EXPECT_EQ(PageSize(opts.path), 2048);

  opts.path = dir.path() + "/old.db";
  ASSERT_EQ(ExecSql(opts.path,
                    "PRAGMA page_size=4096; CREATE TABLE t (x); DROP TABLE t"),
            SQLITE_OK);
  for (std::uint64_t i = 1; i <= 2; ++i) {
    auto store = OpenSqliteStore(opts);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto r = AppendOp(**store, "doc", {1, i});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->first_new_seq, static_cast<std::int64_t>(i));
  }
  EXPECT_EQ(PageSize(opts.path), 4096);
}

Status RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open(path.c_str(), &db);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  std::string msg = sqlite3_errmsg(db);
  sqlite3_close(db);
  return rc == SQLITE_OK ? Status::Ok() : Status::Internal(msg);
}

class SqliteRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { opts_.path = dir_.path() + "/r.db"; }
  Result<std::unique_ptr<Store>> Open() { return OpenSqliteStore(opts_); }
  void Seed() {
    auto s = Open();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    std::vector<NewOp> ops;
    for (std::uint64_t i = 1; i <= 5; ++i) ops.push_back(OpFor({1, i}));
    ASSERT_TRUE((*s)->Append("doc", ops).ok());
    ASSERT_TRUE((*s)->SaveSnapshot({"doc", 3, 0, "snap"}).ok());
  }
  TempDir dir_;
  SqliteOptions opts_;
};

TEST_F(SqliteRecoveryTest, AppliesMigrationsOnceAndRecordsTheVersion) {
  Seed();
  ASSERT_TRUE(Open().ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(opts_.path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT count(*), max(version) FROM "
                               "schema_migrations",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), SqliteSchemaVersion());
  EXPECT_EQ(sqlite3_column_int(st, 1), SqliteSchemaVersion());
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
               "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// A store from before migration 6 (users without token_version) opens,
// and its users read version 0: their tokens keep the version derived
// from the password hash.
TEST_F(SqliteRecoveryTest, MigratesUsersFromBeforeStoredTokenVersions) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->metadata().CreateUser({"u", "u@x", "U", "h", 1, 9}).ok());
  }
  ASSERT_TRUE(RawExec(opts_.path,
                      "ALTER TABLE users DROP COLUMN token_version;"
                      "DELETE FROM schema_migrations WHERE version = 6")
                  .ok());
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto user = (*s)->metadata().GetUser("u");
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user->password_hash, "h");
  EXPECT_EQ(user->token_version, 0);
  ASSERT_TRUE((*s)->metadata().SetPasswordHash("u", "h", "h2", 10).ok());
  EXPECT_EQ((*s)->metadata().GetUser("u")->token_version, 10);
}

TEST_F(SqliteRecoveryTest, RefusesASchemaNewerThanTheBinary) {
  Seed();
  ASSERT_TRUE(
      RawExec(opts_.path, "INSERT INTO schema_migrations VALUES (999, 0)")
          .ok());
  auto s = Open();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find("999"), std::string::npos);
}

// The `weft` tool's reads open without migrating: a store at an older
// version (an older weftd serves it) is refused, not upgraded under it.
TEST_F(SqliteRecoveryTest, WithoutMigrateAnOlderSchemaIsRefusedAndLeftAsItIs) {
  Seed();
  ASSERT_TRUE(Open().ok());
  const std::string latest = std::to_string(SqliteSchemaVersion());
  ASSERT_TRUE(
      RawExec(
          opts_.path,
          ("DELETE FROM schema_migrations WHERE version = " + latest).c_str())
          .ok());
  opts_.migrate = false;
  auto s = Open();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(opts_.path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_migrations",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), SqliteSchemaVersion() - 1)
      << "not upgraded";
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(SqliteRecoveryTest, DetectsAGapInTheLog) {
  Seed();
  ASSERT_TRUE(
      RawExec(opts_.path, "DELETE FROM ops WHERE doc_id = 'doc' AND seq = 4")
          .ok());
  opts_.verify_on_open = true;
  auto s = Open();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find("doc"), std::string::npos)
      << s.status().message();
}

TEST_F(SqliteRecoveryTest, DetectsASnapshotThatDoesNotDecode) {
  Seed();
  opts_.verify_on_open = true;
  opts_.validator = [](std::string_view, std::string_view state) {
    return state == "snap" ? Status::Ok() : Status::Corruption("bad");
  };
  ASSERT_TRUE(Open().ok());
  ASSERT_TRUE(RawExec(opts_.path, "UPDATE snapshots SET state = x'00ff'").ok());
  auto s = Open();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
}

TEST_F(SqliteRecoveryTest, DetectsCompactedOpsAfterTheLatestSnapshot) {
  Seed();
  ASSERT_TRUE(
      RawExec(opts_.path, "UPDATE ops SET payload = NULL WHERE seq = 5").ok());
  auto s = Open();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Verify(nullptr).code(), StatusCode::kCorruption);
  // Loading never hands out a document with a hole in it.
  EXPECT_EQ((*s)->LoadDocument("doc").status().code(), StatusCode::kCorruption);
}

TEST_F(SqliteRecoveryTest, RejectsAFileThatIsNotADatabase) {
  {
    std::ofstream f(opts_.path);
    f << std::string(4096, 'z');
  }
  auto s = Open();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption)
      << s.status().ToString();
}

TEST(SqliteBackupTest, BacksUpALiveStoreConsistently) {
  TempDir dir;
  SqliteOptions opts;
  opts.path = dir.path() + "/live.db";
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok());
  std::vector<std::string> docs = {"a", "b"};
  std::vector<AckedOp> before;
  for (std::uint64_t i = 1; i <= 200; ++i) {
    const std::string& doc = docs[i % 2];
    auto r = AppendOp(**store, doc, {1, i});
    ASSERT_TRUE(r.ok());
    before.push_back({doc, {1, i}, r->seqs[0]});
  }
  // Keep writing while the backup runs.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (std::uint64_t i = 1; !stop; ++i) {
      if (!AppendOp(**store, docs[i % 2], {2, i}).ok()) {
        return;
      }
    }
  });
  int calls = 0;
  int last_done = 0;
  BackupOptions bo;
  bo.pages_per_step = 1;
  bo.progress = [&](int done, int total) {
    ++calls;
    EXPECT_LE(done, total);
    // The copy never goes back to the start (on a busy weftd every commit
    // between two steps did that, and the backup never finished).
    EXPECT_GE(done, last_done);
    last_done = done;
  };
  Status s = BackupSqlite(opts.path, dir.path() + "/backup.db", bo);
  stop = true;
  writer.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GT(calls, 1);
  EXPECT_EQ(BackupSqlite(opts.path, dir.path() + "/backup.db").code(),
            StatusCode::kAlreadyExists);

  SqliteOptions b;
  b.path = dir.path() + "/backup.db";
  b.verify_on_open = true;
  auto copy = OpenSqliteStore(b);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  auto report = CheckAcknowledged(**copy, docs, before);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->missing, 0u) << report->first_problem;
}

TEST(SqliteBackupTest, ACommitBetweenTwoStepsDoesNotRestartTheCopy) {
  TempDir dir;
  SqliteOptions opts;
  opts.path = dir.path() + "/live.db";
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok());
  for (std::uint64_t i = 1; i <= 200; ++i) {
    ASSERT_TRUE(AppendOp(**store, "a", {1, i}).ok());
  }
  // A commit after every step of one page, as on a busy server. Each one
  // used to start the copy again from its first page, so it never ended
  // while the commits went on (here it took ~7,000 steps for ~350 pages,
  // once the writes below stopped).
  int steps = 0;
  int most_pages = 0;
  std::uint64_t next = 1;
  BackupOptions bo;
  bo.pages_per_step = 1;
  bo.progress = [&](int, int total) {
    ++steps;
    most_pages = std::max(most_pages, total);
    if (steps < 20 * total) {  // bounded, so that a restarting copy ends
      ASSERT_TRUE(AppendOp(**store, "b", {2, next++}).ok());
    }
  };
  Status s = BackupSqlite(opts.path, dir.path() + "/backup.db", bo);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GT(next, 10u);  // commits did come between the steps
  EXPECT_LE(steps, most_pages + 1) << "the copy started over";
}

TEST(SqliteStoreTest, VerifyFindsCompactedOpsWithoutASnapshot) {
  TempDir dir;
  SqliteOptions opts;
  opts.path = dir.path() + "/s.db";
  {
    auto store = OpenSqliteStore(opts);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(AppendOp(**store, "d", {1, 1}).ok());
    ASSERT_TRUE(AppendOp(**store, "d", {1, 2}).ok());
    ASSERT_TRUE((*store)->SaveSnapshot({"d", 1, 0, "s1"}).ok());
    ASSERT_TRUE((*store)->Compact("d", 1).ok());
    EXPECT_TRUE((*store)->Verify(nullptr).ok());
  }
  // The snapshot row lost (damage, or a bad manual edit): op 1 can no
  // longer be loaded, which the check on open must say.
  ASSERT_EQ(ExecSql(opts.path, "DELETE FROM snapshots"), SQLITE_OK);
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok());
  Status s = (*store)->Verify(nullptr);
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("no snapshot"), std::string::npos) << s.message();
}

// A store at DIR/s.db with one op of "d" (seq 1).
SqliteOptions StoreWithOneOp(const TempDir& dir) {
  SqliteOptions opts;
  opts.path = dir.path() + "/s.db";
  auto store = OpenSqliteStore(opts);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (store.ok()) {
    EXPECT_TRUE(AppendOp(**store, "d", {1, 1}).ok());
  }
  return opts;
}

TEST(SqliteBackupTest, AFailedBackupLeavesNoFileBehind) {
  TempDir dir;
  std::ofstream(dir.path() + "/garbage.db") << std::string(8192, 'x');
  Status s = BackupSqlite(dir.path() + "/garbage.db", dir.path() + "/b.db");
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/b.db"));
}

TEST(SqliteBackupTest, RestoresABackupWithOtherPagesIntoAStoreInWalMode) {
  TempDir dir;
  SqliteOptions old_opts;
  old_opts.path = dir.path() + "/old.db";
  {
    // A store made with 4 KiB pages (what weft made before 2 KiB).
    ASSERT_EQ(ExecSql(old_opts.path,
                      "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; "
                      "CREATE TABLE t(x); DROP TABLE t;"),
              SQLITE_OK);
    auto store = OpenSqliteStore(old_opts);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE(AppendOp(**store, "d", {1, 1}).ok());
  }
  ASSERT_TRUE(BackupSqlite(old_opts.path, dir.path() + "/b.db").ok());
  SqliteOptions opts;  // a store the current weftd made, then stopped
  opts.path = dir.path() + "/new.db";
  ASSERT_TRUE(OpenSqliteStore(opts).ok());
  Status s = RestoreSqlite(dir.path() + "/b.db", opts.path);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*store)->LastSeq("d"), 1);
}

// What is not a whole weft backup (an empty file, which a backup killed
// half-way could leave; another program's database) is refused before
// the store is touched, and restoring never writes to the backup.
TEST(SqliteBackupTest, RestoreRefusesWhatIsNotABackupAndLeavesBothFilesAlone) {
  TempDir dir;
  SqliteOptions opts = StoreWithOneOp(dir);
  std::ofstream(dir.path() + "/empty.db").flush();
  ASSERT_EQ(ExecSql(dir.path() + "/other.db", "CREATE TABLE notes(x)"),
            SQLITE_OK);
  for (const char* name : {"/empty.db", "/other.db"}) {
    Status s = RestoreSqlite(dir.path() + name, opts.path);
    EXPECT_EQ(s.code(), StatusCode::kCorruption)
        << name << ": " << s.ToString();
    EXPECT_NE(s.message().find("not a weft backup"), std::string::npos)
        << s.message();
  }
  EXPECT_EQ(std::filesystem::file_size(dir.path() + "/empty.db"), 0u);
  {
    auto store = OpenSqliteStore(opts);
    ASSERT_TRUE(store.ok());
    EXPECT_EQ(*(*store)->LastSeq("d"), 1) << "the store is untouched";
  }
  // A good backup, read-only on disk, restores and is not changed.
  ASSERT_TRUE(BackupSqlite(opts.path, dir.path() + "/b.db").ok());
  std::filesystem::permissions(dir.path() + "/b.db",
                               std::filesystem::perms::owner_read,
                               std::filesystem::perm_options::replace);
  auto bytes = [&] {
    std::ifstream in(dir.path() + "/b.db", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string before = bytes();
  Status s = RestoreSqlite(dir.path() + "/b.db", opts.path);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(bytes(), before);
  EXPECT_FALSE(std::filesystem::exists(opts.path + ".restoring"));
}

// A backup is written under a name of its run's own and named when whole:
// nothing is left beside it, and an existing backup is never replaced.
TEST(SqliteBackupTest, ABackupAppearsOnlyWhole) {
  TempDir dir;
  SqliteOptions opts = StoreWithOneOp(dir);
  Status s = BackupSqlite(opts.path, dir.path() + "/b.db");
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"b.db", "s.db", "s.db-shm", "s.db-wal"}))
      << "no partial or journal files";
  ASSERT_TRUE(RestoreSqlite(dir.path() + "/b.db", opts.path).ok());
  EXPECT_EQ(BackupSqlite(opts.path, dir.path() + "/b.db").code(),
            StatusCode::kAlreadyExists);
}

// A backup an older weft left in WAL mode is read as it is: restoring it
// leaves no -wal or -shm beside it.
TEST(SqliteBackupTest, RestoresABackupInWalModeWithoutWritingBesideIt) {
  TempDir dir;
  SqliteOptions opts = StoreWithOneOp(dir);
  SqliteOptions old_backup;
  old_backup.path = dir.path() + "/old.bak";
  {
    auto store = OpenSqliteStore(old_backup);  // WAL mode, as weft makes
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(AppendOp(**store, "e", {1, 1}).ok());
  }
  ASSERT_FALSE(std::filesystem::exists(old_backup.path + "-wal"));
  Status s = RestoreSqlite(old_backup.path, opts.path);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(std::filesystem::exists(old_backup.path + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(old_backup.path + "-shm"));
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->LastSeq("e"), 1);
}

// A --from file with a WAL that holds commits (a store copied as it was,
// or one still open) is not read as immutable, which would skip them.
TEST(SqliteBackupTest, RestoreReadsTheCommitsInAWalBesideTheBackup) {
  TempDir dir;
  SqliteOptions opts = StoreWithOneOp(dir);
  SqliteOptions source;
  source.path = dir.path() + "/open.db";
  auto open = OpenSqliteStore(source);  // stays open: its WAL holds it all
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE(AppendOp(**open, "e", {1, 1}).ok());
  ASSERT_GT(std::filesystem::file_size(source.path + "-wal"), 0u);
  Status s = RestoreSqlite(source.path, opts.path);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->LastSeq("e"), 1);
}

TEST(SqliteBackupTest, RestoreBringsBackTheBackedUpState) {
  TempDir dir;
  SqliteOptions opts;
  opts.path = dir.path() + "/s.db";
  {
    auto store = OpenSqliteStore(opts);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(AppendOp(**store, "d", {1, 1}).ok());
    ASSERT_TRUE(
        (*store)->metadata().CreateUser({"u", "u@x", "U", "h", 1}).ok());
  }
  ASSERT_TRUE(BackupSqlite(opts.path, dir.path() + "/b.db").ok());
  {
    auto store = OpenSqliteStore(opts);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(AppendOp(**store, "d", {1, 2}).ok());
  }
  ASSERT_TRUE(RestoreSqlite(dir.path() + "/b.db", opts.path).ok());
  auto store = OpenSqliteStore(opts);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*store)->LastSeq("d"), 1);
  EXPECT_TRUE((*store)->metadata().GetUser("u").ok());
  EXPECT_EQ(RestoreSqlite(dir.path() + "/none.db", opts.path).code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace weft::store::testing
