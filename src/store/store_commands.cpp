#include "store/store_commands.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

#include "store/document_export.h"
#include "store/durable_file.h"
#include "store/pg_store.h"
#include "store/sqlite_backup.h"
#include "store/sqlite_lock.h"
#include "store/sqlite_store.h"

namespace weft::store {
namespace {

int Fail(std::ostream& err, const std::string& what, const Status& s) {
  err << "weft: " << what << ": " << s.ToString() << "\n";
  return 1;
}

// "\rbackup: 42% (1234/2930 pages)", then a newline when done.
BackupProgress ProgressTo(std::ostream& err, const char* what) {
  return [&err, what](int done, int total) {
    int pct = total == 0 ? 100 : static_cast<int>(100LL * done / total);
    err << "\r" << what << ": " << pct << "% (" << done << "/" << total
        << " pages)" << (done >= total ? "\n" : "") << std::flush;
  };
}

// `migrate`: whether the schema may be brought up to this binary's (see
// SqliteOptions::migrate): not for a read beside a running weftd.
Result<std::unique_ptr<Store>> Open(const StoreTarget& t, bool migrate) {
  if (t.sqlite_path.empty() == t.pg_conninfo.empty()) {
    return Status::InvalidArgument("give exactly one of --sqlite, --postgres");
  }
  if (!t.sqlite_path.empty()) {
    SqliteOptions o;
    o.path = t.sqlite_path;
    o.migrate = migrate;
    return OpenSqliteStore(o);
  }
  PgOptions o;
  o.conninfo = t.pg_conninfo;
  o.migrate = migrate;
  return OpenPgStore(o);
}

}  // namespace

int RunBackupCommand(const std::string& sqlite_path,
                     const std::string& backup_path, std::ostream& err,
                     const SnapshotValidator& validator) {
  BackupOptions o;
  o.progress = ProgressTo(err, "backup");
  o.validator = validator;
  Status s = BackupSqlite(sqlite_path, backup_path, o);
  if (!s.ok()) return Fail(err, "backup of " + sqlite_path, s);
  err << "weft: backed up " << sqlite_path << " to " << backup_path
      << " (verified)\n";
  return 0;
}

int RunRestoreCommand(const std::string& backup_path,
                      const std::string& sqlite_path, std::ostream& err,
                      const SnapshotValidator& validator) {
  // Not under a running weftd, and no weftd starts on it meanwhile.
  auto lock = SqliteStoreLock::Acquire(sqlite_path);
  if (!lock.ok())
    return Fail(err, "restore into " + sqlite_path, lock.status());
  BackupOptions o;
  o.progress = ProgressTo(err, "restore");
  o.validator = validator;
  Status s = RestoreSqlite(backup_path, sqlite_path, o);
  if (!s.ok()) return Fail(err, "restore of " + backup_path, s);
  err << "weft: restored " << backup_path << " into " << sqlite_path << "\n";
  return 0;
}

int RunExportCommand(const StoreTarget& target, const std::string& doc_id,
                     const std::string& file, std::ostream& err) {
  // Reading a store that is not there would create one (a mistyped path
  // leaves a new empty store behind).
  if (!target.sqlite_path.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(target.sqlite_path, ec)) {
      return Fail(err, "open store",
                  Status::NotFound("no store at " + target.sqlite_path));
    }
  }
  // A read: a weftd of an older version may be serving this store, and
  // would refuse to start on it once upgraded.
  auto store = Open(target, /*migrate=*/false);
  if (!store.ok()) return Fail(err, "open store", store.status());
  auto dump = (*store)->ExportDocument(doc_id);
  if (!dump.ok()) return Fail(err, "export " + doc_id, dump.status());
  // What import will check: a dump that would be refused is not written.
  if (Status s = CheckDocumentDump(*dump); !s.ok()) {
    return Fail(err, "export " + doc_id, s);
  }
  // Never over a file that exists: a mistyped --file replaced the store
  // itself, or a backup.
  Status s = WriteNewFile(file, EncodeDocumentDump(*dump), "export");
  if (!s.ok()) return Fail(err, "write " + file, s);
  err << "weft: exported " << doc_id << " (" << dump->ops.size() << " ops"
      << (dump->snapshot ? ", snapshot at seq " +
                               std::to_string(dump->snapshot->last_included_seq)
                         : std::string())
      << ") to " << file << "\n";
  return 0;
}

int RunImportCommand(const StoreTarget& target, const std::string& file,
                     std::ostream& err, const SnapshotValidator& validator) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail(err, "read " + file, Status::NotFound(file));
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  auto dump = DecodeDocumentDump(bytes);
  if (!dump.ok()) return Fail(err, "decode " + file, dump.status());
  // The checksum is no proof: a snapshot weftd cannot load would stop it
  // at its next start (and `weft` has no command to take it out again).
  if (dump->snapshot && validator) {
    if (Status v = validator(dump->doc_id, dump->snapshot->state); !v.ok()) {
      return Fail(
          err, "import " + dump->doc_id,
          Status::Corruption("its snapshot does not load: " + v.message()));
    }
  }
  // A weftd on the store would not see the document's new log and could
  // number over it (a document it has loaded, or loads meanwhile).
  std::optional<SqliteStoreLock> lock;
  if (!target.sqlite_path.empty()) {
    auto held = SqliteStoreLock::Acquire(target.sqlite_path);
    if (!held.ok())
      return Fail(err, "import into " + target.sqlite_path, held.status());
    lock.emplace(std::move(*held));
  }
  auto store = Open(target, /*migrate=*/true);  // may create the store
  if (!store.ok()) return Fail(err, "open store", store.status());
  Status s = (*store)->ImportDocument(*dump);
  if (!s.ok()) return Fail(err, "import " + dump->doc_id, s);
  err << "weft: imported " << dump->doc_id << " (" << dump->ops.size()
      << " ops)\n";
  return 0;
}

}  // namespace weft::store
