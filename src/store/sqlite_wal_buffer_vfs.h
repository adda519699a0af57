#pragma once

// A SQLite VFS that coalesces writes to WAL files until they are synced.
//
// SQLite writes each WAL frame with two write calls (its 24-byte header, then
// the page), so a group commit that dirties a hundred pages costs two
// hundred pwrite(2) calls before its fsync: the largest part of the
// committer's CPU in store_bench. This VFS wraps another one and, for files
// opened as WAL only, keeps consecutive writes in a buffer that it writes
// with one call before anything else touches the file (sync, read, size,
// truncate, a write elsewhere, close, file control). Durability is
// unchanged: everything SQLite wrote reaches the wrapped VFS before the
// xSync that makes it durable. Other connections see WAL frames only once
// the commit is in the shared-memory index, which SQLite updates after the
// sync; so it must only be used with synchronous=FULL (NORMAL does not sync
// the WAL at each commit, so a commit could be indexed before its frames
// are written; OFF never syncs).
// Thread-safety: as SQLite's own VFS (one file handle is used by one
// connection at a time).

#include <string>

namespace weft::store {

// Registers (once per base) and returns the name of the buffering VFS that
// wraps the VFS named `base` (empty: the default VFS).
std::string WalBufferVfs(const std::string& base);

}  // namespace weft::store
