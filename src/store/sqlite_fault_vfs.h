#pragma once

// FaultVfs: a SQLite VFS for tests that can simulate a power loss.
//
// It wraps the default VFS. Every write and truncate goes to the real file
// but is remembered (with the bytes it replaced) until the file is synced.
// As with fsync(2), a sync through any handle makes durable every write to
// the file made before it, whichever handle made it, and closing a handle
// makes nothing durable. Crash() undoes, per file, every write and
// truncate that no later sync covered, as a power loss would, and from
// then on fails every write, sync, truncate and delete with SQLITE_IOERR
// until Reset(). A deleted file stays deleted, and files no name reaches
// any more (unnamed temporary files, deleted ones) are left as they are.
// Like LevelDB's FaultInjectionTestEnv. Thread-safe. Test support only.

#include <chrono>
#include <string>

namespace weft::store::testing {

class FaultVfs {
 public:
  // Registers (once) and returns the VFS named `name`.
  static FaultVfs* Get(const std::string& name);

  // Drops the unsynced writes of every file written through this VFS (open
  // or closed since) and fails further I/O.
  void Crash();
  // Lets I/O through again (for the next round) and clears the injected
  // failures and delay.
  void Reset();
  // How many xSync calls reached the VFS (for tests of the test).
  long syncs() const;
  // How many xWrite calls to WAL files reached the VFS.
  long wal_writes() const;
  // Fails the next xWrite to a WAL file with SQLITE_IOERR_WRITE (once).
  void FailNextWalWrite();
  // Fails the next xSync of a WAL file with SQLITE_IOERR_FSYNC (once).
  void FailNextWalSync();
  // Every xSync of a WAL file first sleeps this long (0: none).
  void SetWalSyncDelay(std::chrono::milliseconds delay);
  // Writes to a WAL's header (its first 32 bytes), and WAL writes past the
  // header made while a header write was not yet synced: SQLite syncs a new
  // header before the frames that follow it, so this stays 0.
  long wal_header_writes() const;
  long frames_under_unsynced_header() const;

  const std::string& name() const { return name_; }

 private:
  explicit FaultVfs(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

}  // namespace weft::store::testing
