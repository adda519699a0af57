#pragma once

// SqliteStore: the embedded default Store, one SQLite file.
//
// Durability: journal_mode=WAL, synchronous=FULL: a commit returns after the
// WAL is fsynced. One connection is the single writer; appends go through a
// GroupCommitter (one transaction and one fsync for every append queued
// while the previous commit ran). Reads share the connection under a mutex.
// Migrations (docs/storage.md) run on open; a schema newer than this binary
// fails with kCorruption. Thread-safe.

#include <memory>
#include <string>

#include "store/store.h"

namespace weft::store {

struct SqliteOptions {
  std::string path;  // the database file; created if missing
  // How long to wait for a lock held by another connection (ms). Default 5 s.
  int busy_timeout_ms = 5000;
  // Name of a registered sqlite3_vfs to use; empty for the default. Tests
  // pass a fault-injecting VFS.
  std::string vfs;
  // Tests only: false sets synchronous=OFF, to prove the fault-injection
  // test catches a store that acknowledges before fsync. Default true.
  bool synchronous_full = true;
  // Group commit puts each commit's WAL fsync off to the thread that runs
  // the callbacks, so that the next group's inserts overlap with it
  // (docs/storage.md, "Group commit"); nothing is acknowledged or read
  // back before its fsync. False fsyncs inside each commit. Default true.
  bool defer_wal_sync = true;
  // Upper bound on operations per group commit. Default 8192.
  std::size_t max_group_ops = 8192;
  // Called after each group commit (see CommitObserver); may be empty.
  CommitObserver on_commit;
  // Checkpoint once the WAL holds this many pages (docs/storage.md; 2 KiB
  // pages in a store created by this version). Tests make it small to
  // checkpoint often. Default 32000 (64 MB): each checkpoint ends with the
  // writer copying the last frames and syncing the database between two
  // groups, a pause that a smaller WAL makes too frequent for the p99.
  int wal_checkpoint_pages = 32000;
  // Runs Verify(validator) after migrations and fails to open on error.
  bool verify_on_open = false;
  // Whether opening may bring the schema up to this binary's. False (the
  // `weft` tool's reads and account commands beside a running weftd):
  // a store at another version is refused (kFailedPrecondition) instead
  // of upgraded under an older weftd, which would then refuse to start.
  bool migrate = true;
  SnapshotValidator validator;
};

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

// The schema version this binary writes (the highest migration).
int SqliteSchemaVersion();

}  // namespace weft::store
