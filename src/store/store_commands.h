#pragma once

// The storage subcommands of the `weft` tool: backup/restore of a SQLite
// store and export/import of one document. app/weft only parses flags and
// calls these. Each returns the process exit code (0 ok, 1 failure) and
// writes progress and errors a person can act on to `err`.

#include <ostream>
#include <string>

#include "store/store.h"

namespace weft::store {

// Where a store lives: exactly one of the two is non-empty.
struct StoreTarget {
  std::string sqlite_path;
  std::string pg_conninfo;
};

// `validator` checks snapshots as weftd's open does (the tool passes the
// engine's; empty: not checked): a backup or restore is refused when a
// document's latest snapshot would not load, an import when its file's
// snapshot would not.
int RunBackupCommand(const std::string& sqlite_path,
                     const std::string& backup_path, std::ostream& err,
                     const SnapshotValidator& validator = {});
int RunRestoreCommand(const std::string& backup_path,
                      const std::string& sqlite_path, std::ostream& err,
                      const SnapshotValidator& validator = {});
// `file` must not exist.
int RunExportCommand(const StoreTarget& target, const std::string& doc_id,
                     const std::string& file, std::ostream& err);
int RunImportCommand(const StoreTarget& target, const std::string& file,
                     std::ostream& err,
                     const SnapshotValidator& validator = {});

}  // namespace weft::store
