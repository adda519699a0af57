#pragma once

// PgStore: the Store on PostgreSQL 15 through libpq.
//
// Durability: an append is acknowledged after its COMMIT returned (the
// server's synchronous_commit=on, fsync=on). Appends go through a
// GroupCommitter: one transaction per group, its statements pipelined
// (libpq pipeline mode), one commit. The committer remembers each
// document's last committed seq and numbers the next group from it in one
// round trip; the unique constraints and a probe per document catch a
// seq the table has moved past (another writer) or back from (a failover)
// and a retried op, and the group is then redone from the table
// (docs/storage.md). Data statements are prepared statements
// with out-of-line parameters; migrations (DDL) run once at open.
//
// Connections come from a bounded pool (PgOptions::pool_size); a caller
// waits for a free one up to acquire_timeout_ms, then fails with
// kUnavailable (the group committer waits as long as it takes). Connections use
// TCP keep-alives and a TCP user timeout (pg_pool.h), so a call to a server
// that vanished fails within about a minute. A broken connection is dropped and
// re-established on next use, retrying with exponential backoff (50 ms doubling
// to 2 s) up to connect_timeout_ms; then the call fails with kUnavailable. If
// the connection breaks during COMMIT the outcome is unknown and the append
// fails with kUnavailable: retrying it is safe (op ids are idempotent).
// Thread-safe.

#include <cstddef>
#include <memory>
#include <string>

#include "store/store.h"

namespace weft::store {

struct PgOptions {
  std::string conninfo;  // libpq connection string
  // Connections in the pool (one is used by the group committer at a time).
  // Default 4.
  std::size_t pool_size = 4;
  // How long to keep retrying to (re)connect before kUnavailable. Default 10 s.
  int connect_timeout_ms = 10'000;
  // How long a call waits for a free pooled connection before kUnavailable
  // (<= 0: no limit). The group commit always waits. Default 10 s.
  int acquire_timeout_ms = 10'000;
  // Upper bound on operations per group commit. Default 8192.
  std::size_t max_group_ops = 8192;
  // Called after each group commit (see CommitObserver); may be empty.
  CommitObserver on_commit;
  // Runs Verify(validator) after migrations and fails to open on error.
  bool verify_on_open = false;
  // Whether opening may bring the schema up to this binary's. False (the
  // `weft` tool's reads and account commands beside a running weftd):
  // a store at another version is refused (kFailedPrecondition) instead
  // of upgraded under an older weftd, which would then refuse to start.
  bool migrate = true;
  SnapshotValidator validator;
};

Result<std::unique_ptr<Store>> OpenPgStore(const PgOptions& options);

// The schema version this binary writes (the highest migration).
int PgSchemaVersion();

}  // namespace weft::store
