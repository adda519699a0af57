#include "store/sqlite_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "store/durable_file.h"
#include "store/sqlite_store.h"
#include "store/sqlite_util.h"

namespace weft::store {
namespace {

struct Db {
  sqlite3* db = nullptr;
  ~Db() {
    if (db != nullptr) sqlite3_close(db);
  }
};

Status Open(const std::string& path, int flags, int busy_ms, Db& out) {
  int rc = sqlite3_open_v2(path.c_str(), &out.db, flags, nullptr);
  if (rc != SQLITE_OK) return sqlite::Error(out.db, rc, "open " + path);
  sqlite3_extended_result_codes(out.db, 1);
  sqlite3_busy_timeout(out.db, busy_ms);
  return Status::Ok();
}

// Opens a backup file, which nothing writes, as immutable: read-only, and
// no -wal or -shm beside it is read or made (a backup that an older weft
// left in WAL mode opens from a read-only place too, and gains no files).
// Not when a -wal with content lies beside it (a store's file copied as it
// was, a crashed weftd's store): immutable would ignore those commits, so
// it is opened read-only as a database with its WAL.
Status OpenBackup(const std::string& path, int busy_ms, Db& out) {
  std::error_code ec;
  auto wal = std::filesystem::file_size(path + "-wal", ec);
  if (!ec && wal > 0) return Open(path, SQLITE_OPEN_READONLY, busy_ms, out);
  // Absolute, so that a path starting with "//" is not read as a URI's
  // authority.
  std::string absolute = std::filesystem::absolute(path, ec).string();
  if (ec) absolute = path;
  std::string uri = "file://";
  for (char c : absolute) {
    if (c == '%' || c == '?' || c == '#') {
      static const char* kHex = "0123456789ABCDEF";
      uri += '%';
      uri += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
      uri += kHex[static_cast<unsigned char>(c) & 0xF];
    } else {
      uri += c;
    }
  }
  uri += "?mode=ro&immutable=1";
  return Open(uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, busy_ms, out);
}

// Copies every page of `from` into `to` in steps, all from one read
// transaction of `from`: a live store (WAL) keeps taking commits meanwhile,
// and without it every step that saw one would start the copy again (a
// busy server's backup never finished).
Status Copy(sqlite3* from, sqlite3* to, const BackupOptions& options) {
  char* err = nullptr;
  int begun = sqlite3_exec(from, "BEGIN; SELECT count(*) FROM sqlite_schema",
                           nullptr, nullptr, &err);
  sqlite3_free(err);
  if (begun != SQLITE_OK) {
    return sqlite::Error(from, begun, "read transaction on the source");
  }
  struct EndRead {
    sqlite3* db;
    ~EndRead() { sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr); }
  } end_read{from};
  sqlite3_backup* b = sqlite3_backup_init(to, "main", from, "main");
  if (b == nullptr) {
    return sqlite::Error(to, sqlite3_extended_errcode(to), "backup init");
  }
  int rc;
  do {
    rc = sqlite3_backup_step(b, options.pages_per_step);
    if (options.progress) {
      int total = sqlite3_backup_pagecount(b);
      options.progress(total - sqlite3_backup_remaining(b), total);
    }
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  int fin = sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return sqlite::Error(to, rc, "backup step");
  if (fin != SQLITE_OK) return sqlite::Error(to, fin, "backup finish");
  return Status::Ok();
}

// Whether `path` names a file; kUnavailable when that cannot be told
// (a directory we may not read, say).
// Removes `path` and the journal files SQLite may have left beside it.
void RemoveDatabaseFiles(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix, ec);
  }
}

// A weft store as a backup must be, read without writing to it: a
// schema this binary knows (not a file of another program, nor an empty
// one, which a backup killed half-way leaves) and pages that pass
// SQLite's quick check.
Status CheckBackupFile(const std::string& path, int busy_ms) {
  Db db;
  WEFT_RETURN_IF_ERROR(OpenBackup(path, busy_ms, db));
  auto not_a_backup = [&](const std::string& why) {
    return Status::Corruption(path + " is not a weft backup: " + why);
  };
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(
      db.db, "SELECT max(version) FROM schema_migrations", -1, &st, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(st);
    int primary = rc & 0xFF;
    // A file that cannot be read is not a verdict on its content.
    if (primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR ||
        primary == SQLITE_BUSY || primary == SQLITE_PERM) {
      return sqlite::Error(db.db, rc, "read " + path);
    }
    return not_a_backup(sqlite3_errmsg(db.db));
  }
  rc = sqlite3_step(st);
  int version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  if (version < 1) return not_a_backup("no schema version");
  if (version > SqliteSchemaVersion()) {
    return Status::Corruption(
        path + " has schema version " + std::to_string(version) +
        "; this weft knows up to " + std::to_string(SqliteSchemaVersion()) +
        " (restore it with a newer weft)");
  }
  rc = sqlite3_prepare_v2(db.db, "PRAGMA quick_check", -1, &st, nullptr);
  std::string verdict;
  if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(st, 0);
    if (text != nullptr) verdict = reinterpret_cast<const char*>(text);
  }
  sqlite3_finalize(st);
  if (verdict != "ok") {
    return not_a_backup(
        "damaged pages (" +
        (verdict.empty() ? std::string(sqlite3_errmsg(db.db)) : verdict) + ")");
  }
  return Status::Ok();
}

// Opens `path` as a store with verify_on_open (migrating it to this
// binary's schema) and closes it again.
Status VerifyAsStore(const std::string& path,
                     const SnapshotValidator& validator) {
  SqliteOptions check;
  check.path = path;
  check.verify_on_open = true;
  check.validator = validator;
  return OpenSqliteStore(check).status();
}

// Removes a database's files when it goes out of scope, unless kept.
struct RemoveUnlessKept {
  const std::string& path;
  bool keep = false;
  ~RemoveUnlessKept() {
    if (!keep) RemoveDatabaseFiles(path);
  }
};

// Copies the SQLite database `from` into a new file `to` (the backup API,
// one read transaction of `from`). `from_backup`: `from` is a backup file
// (OpenBackup), not a live store.
Status CopyToNewFile(const std::string& from_path, bool from_backup,
                     const std::string& to_path, const BackupOptions& options) {
  Db from, to;
  WEFT_RETURN_IF_ERROR(
      from_backup ? OpenBackup(from_path, options.busy_timeout_ms, from)
                  : Open(from_path, SQLITE_OPEN_READONLY,
                         options.busy_timeout_ms, from));
  WEFT_RETURN_IF_ERROR(Open(to_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            options.busy_timeout_ms, to));
  WEFT_RETURN_IF_ERROR(Copy(from.db, to.db, options));
  // The copy is in rollback-journal mode; make it durable now.
  char* err = nullptr;
  int rc = sqlite3_exec(to.db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr,
                        nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return sqlite::Error(to.db, rc, "checkpoint copy");
  return Status::Ok();
}

}  // namespace

Status BackupSqlite(const std::string& source, const std::string& dest,
                    const BackupOptions& options) {
  auto there = Exists(dest);
  if (!there.ok()) return there.status();
  if (*there) return Status::AlreadyExists("backup target " + dest + " exists");
  // Written under a name of this run's own (mkstemp: unique even for runs
  // in separate containers on one volume) and given the final name once
  // checked and durable: a backup killed half-way leaves nothing under the
  // name (only its partial file), two runs to one name cannot touch each
  // other's file, and an existing backup is never replaced.
  std::string partial = dest + ".partial-XXXXXX";
  int fd = ::mkstemp(partial.data());
  if (fd < 0) {
    return Status::Unavailable("cannot create a file beside " + dest + ": " +
                               std::strerror(errno));
  }
  ::close(fd);
  RemoveUnlessKept cleanup{partial};
  WEFT_RETURN_IF_ERROR(CopyToNewFile(source, false, partial, options));
  // Checked as a restore checks it before the check below migrates it: an
  // empty or foreign source became a "verified" backup of an empty store.
  WEFT_RETURN_IF_ERROR(CheckBackupFile(partial, options.busy_timeout_ms));
  // Only as good as its check: logs contiguous, and (with the caller's
  // validator) every latest snapshot loads as weftd will load it.
  WEFT_RETURN_IF_ERROR(VerifyAsStore(partial, options.validator));
  {
    // One self-contained file (the check put it in WAL mode), readable
    // where nothing may be written beside it.
    Db db;
    WEFT_RETURN_IF_ERROR(
        Open(partial, SQLITE_OPEN_READWRITE, options.busy_timeout_ms, db));
    char* err = nullptr;
    int rc = sqlite3_exec(db.db, "PRAGMA journal_mode=DELETE", nullptr, nullptr,
                          &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return sqlite::Error(db.db, rc, "journal mode");
  }
  // fsync the file (the backup API writes through the pager without a
  // final sync of its own in every mode), rename, fsync the directory.
  WEFT_RETURN_IF_ERROR(Sync(partial));
  WEFT_RETURN_IF_ERROR(NameWithoutReplacing(partial, dest, "backup"));
  // The backup keeps its name; the run's own name and any journal files
  // the check left go.
  return Sync(DirectoryOf(dest));
}

Status RestoreSqlite(const std::string& backup, const std::string& dest,
                     const BackupOptions& options) {
  auto there = Exists(backup);
  if (!there.ok()) return there.status();
  if (!*there) return Status::NotFound("backup " + backup + " not found");
  // Checked before the target is touched, and never written to: the file
  // itself read-only (a weft schema, sound pages), then a copy of it next
  // to the target opened as a store (migrated to this binary's schema and
  // its logs verified). The copy is what gets restored.
  WEFT_RETURN_IF_ERROR(CheckBackupFile(backup, options.busy_timeout_ms));
  const std::string staged = dest + ".restoring";
  RemoveDatabaseFiles(staged);       // of an earlier attempt killed half-way
  RemoveUnlessKept cleanup{staged};  // never kept
  WEFT_RETURN_IF_ERROR(CopyToNewFile(backup, true, staged, options));
  WEFT_RETURN_IF_ERROR(VerifyAsStore(staged, options.validator));
  Db from, to;
  WEFT_RETURN_IF_ERROR(
      Open(staged, SQLITE_OPEN_READONLY, options.busy_timeout_ms, from));
  WEFT_RETURN_IF_ERROR(Open(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            options.busy_timeout_ms, to));
  // Refuse to overwrite a store a running server holds: take the write
  // lock first, without waiting long.
  sqlite3_busy_timeout(to.db, 100);
  char* err = nullptr;
  int rc =
      sqlite3_exec(to.db, "BEGIN IMMEDIATE; COMMIT", nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) {
    return Status::Unavailable("restore target " + dest +
                               " is in use (stop weftd first)");
  }
  sqlite3_busy_timeout(to.db, options.busy_timeout_ms);
  // A target in WAL mode cannot take pages of another size (a store made
  // with other settings than the backup's): copy in rollback mode; weftd
  // puts it back in WAL mode when it opens it.
  // EXTRA: the commit (the journal's deletion) is synced with its
  // directory, so a power loss cannot bring the old store back.
  rc = sqlite3_exec(to.db,
                    "PRAGMA journal_mode=DELETE; PRAGMA synchronous=EXTRA",
                    nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return sqlite::Error(to.db, rc, "journal mode");
  return Copy(from.db, to.db, options);
}

}  // namespace weft::store
