#include "store/sqlite_backup.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

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

}  // namespace

Status BackupSqlite(const std::string& source, const std::string& dest,
                    const BackupOptions& options) {
  if (std::filesystem::exists(dest)) {
    return Status::AlreadyExists("backup target " + dest + " exists");
  }
  // A failed backup leaves no partial file behind (the next attempt would
  // refuse the name).
  struct RemoveUnlessKept {
    const std::string& path;
    bool keep = false;
    ~RemoveUnlessKept() {
      if (keep) return;
      std::error_code ec;
      std::filesystem::remove(path, ec);
      std::filesystem::remove(path + "-journal", ec);
      std::filesystem::remove(path + "-wal", ec);
      std::filesystem::remove(path + "-shm", ec);
    }
  } partial{dest};
  {
    Db from, to;
    WEFT_RETURN_IF_ERROR(
        Open(source, SQLITE_OPEN_READONLY, options.busy_timeout_ms, from));
    WEFT_RETURN_IF_ERROR(Open(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                              options.busy_timeout_ms, to));
    WEFT_RETURN_IF_ERROR(Copy(from.db, to.db, options));
    // The copy is in rollback-journal mode; make it durable now.
    char* err = nullptr;
    int rc = sqlite3_exec(to.db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr,
                          nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return sqlite::Error(to.db, rc, "checkpoint backup");
  }
  // fsync the file: the backup API writes through the pager without a
  // final sync of its own in every mode.
  {
    FILE* f = std::fopen(dest.c_str(), "rb+");
    if (f == nullptr) return Status::Unavailable("cannot reopen " + dest);
    int rc = ::fsync(::fileno(f));
    std::fclose(f);
    if (rc != 0) return Status::Unavailable("fsync " + dest + " failed");
  }
  // A backup is only as good as its check.
  SqliteOptions check;
  check.path = dest;
  check.verify_on_open = true;
  auto store = OpenSqliteStore(check);
  if (!store.ok()) return store.status();
  partial.keep = true;
  return Status::Ok();
}

Status RestoreSqlite(const std::string& backup, const std::string& dest,
                     const BackupOptions& options) {
  if (!std::filesystem::exists(backup)) {
    return Status::NotFound("backup " + backup + " not found");
  }
  {
    // Check the backup before touching the target.
    SqliteOptions check;
    check.path = backup;
    check.verify_on_open = true;
    auto store = OpenSqliteStore(check);
    if (!store.ok()) return store.status();
  }
  Db from, to;
  WEFT_RETURN_IF_ERROR(
      Open(backup, SQLITE_OPEN_READONLY, options.busy_timeout_ms, from));
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
  rc =
      sqlite3_exec(to.db, "PRAGMA journal_mode=DELETE", nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return sqlite::Error(to.db, rc, "journal mode");
  return Copy(from.db, to.db, options);
}

}  // namespace weft::store
