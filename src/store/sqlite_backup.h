#pragma once

// Whole-store backup and restore of a SQLite store through SQLite's online
// backup API.
//
// BackupSqlite copies a consistent image of `source` (a live store: weftd
// may keep writing; the copy proceeds in steps and restarts from scratch if
// another process writes mid-copy) into `dest`, fsyncs it, and verifies that
// it opens as a store whose logs are intact. RestoreSqlite copies a backup
// over `dest`, which must not be open by a running server (kUnavailable if
// it is locked). Both call `progress(done_pages, total_pages)` after each
// step when given. Thread-compatible: one call per file at a time.

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "store/store.h"

namespace weft::store {

using BackupProgress = std::function<void(int done_pages, int total_pages)>;

struct BackupOptions {
  int pages_per_step = 1024;  // pages copied per step (4 MB at 4 KB pages)
  int busy_timeout_ms = 5000;
  BackupProgress progress;  // may be empty
  // Checks each document's latest snapshot as weftd's open does (weftd
  // refuses to start on a store with one that does not load); empty: not
  // checked (the store does not depend on the engine, the caller does).
  SnapshotValidator validator;
};

Status BackupSqlite(const std::string& source, const std::string& dest,
                    const BackupOptions& options = {});
Status RestoreSqlite(const std::string& backup, const std::string& dest,
                     const BackupOptions& options = {});

}  // namespace weft::store
