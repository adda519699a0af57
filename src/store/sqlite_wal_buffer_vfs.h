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
//
// It can also put a commit's WAL sync off (DeferWalSyncs), so that a group
// commit's writer builds the next group while another thread fsyncs the
// previous one (docs/storage.md, "Group commit").
// Thread-safety: as SQLite's own VFS (one file handle is used by one
// connection at a time), except SyncDeferredWal.

#include <sqlite3.h>

#include <atomic>
#include <string>

namespace weft::store {

// Registers (once per base) and returns the name of the buffering VFS that
// wraps the VFS named `base` (empty: the default VFS).
std::string WalBufferVfs(const std::string& base);

// The WAL file whose sync a commit put off (the buffering VFS's handle).
struct DeferredWalSync {
  std::atomic<sqlite3_file*> file{nullptr};
  std::atomic<int> flags{0};
};

// While one is alive on a thread, an xSync of a WAL file opened through a
// buffering VFS writes the buffered frames, records the file in *into and
// returns SQLITE_OK without syncing. Not deferred: the first sync of each
// file (it may also sync its directory) and a sync that follows a write of
// the WAL header (SQLite syncs a restarted WAL's header before its frames).
// SQLite then treats the commit as durable and makes it visible to readers, so
// the caller must call SyncDeferredWal before it reports the commit durable to
// anyone, and keep the connection open until then.
class DeferWalSyncs {
 public:
  explicit DeferWalSyncs(DeferredWalSync* into);
  ~DeferWalSyncs();
  DeferWalSyncs(const DeferWalSyncs&) = delete;
  DeferWalSyncs& operator=(const DeferWalSyncs&) = delete;
};

// Syncs the file recorded in `d` (the wrapped VFS's xSync): everything
// written to it before the call becomes durable. Fails if this or any
// earlier sync of the file failed: once a WAL file's sync failed, every
// later sync of it fails (Linux reports a lost write to one fsync only, and
// frames after lost ones are lost too). May run on another
// thread while the connection writes to the file: the unix VFS's sync reads
// only the descriptor once the file's first sync has run. SQLITE_OK when
// nothing was recorded.
int SyncDeferredWal(const DeferredWalSync& d);

}  // namespace weft::store
