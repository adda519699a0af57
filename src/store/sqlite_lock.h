#pragma once

// One weftd per SQLite store. weftd sequences each document's operations
// in memory, so a second weftd on the same file would number the same
// documents independently: writes collide, documents reload over and over,
// and clients of the two see different streams. weftd therefore holds an
// exclusive lock on "<store path>.lock" (its pid written in) for as long
// as it runs, and `weft restore` holds it while it replaces the file.
// Other `weft` commands (backup, user, export) work beside a running weftd
// and do not take it. The kernel releases the lock when the process ends,
// however it ends (flock(2)); a stale file left behind locks nothing.

#include <string>

#include "common/status.h"

namespace weft::store {

class SqliteStoreLock {
 public:
  // FailedPrecondition naming the holder's pid when another process holds
  // it; the system's error when the lock file cannot be opened.
  static Result<SqliteStoreLock> Acquire(const std::string& store_path);

  SqliteStoreLock(SqliteStoreLock&& other) noexcept;
  SqliteStoreLock& operator=(SqliteStoreLock&& other) noexcept;
  SqliteStoreLock(const SqliteStoreLock&) = delete;
  SqliteStoreLock& operator=(const SqliteStoreLock&) = delete;
  ~SqliteStoreLock();

 private:
  explicit SqliteStoreLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace weft::store
