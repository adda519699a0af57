#pragma once

// SQLite plumbing shared by the SQLite op log and metadata: error mapping
// and a prepared statement with positional binding. Internal to src/store.
// Not thread-safe: callers hold the connection's mutex.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::store::sqlite {

inline Status Error(sqlite3* db, int rc, std::string_view what) {
  std::string msg = "sqlite: " + std::string(what) + ": " +
                    (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE ||
          rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status::AlreadyExists(msg);
      }
      return Status::InvalidArgument(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return Status::Unavailable(msg);
    default:
      return Status::Internal(msg);
  }
}

// A prepared statement, reset and unbound when a Use ends.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status Prepare(sqlite3* db, const char* sql) {
    db_ = db;
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_,
                                nullptr);
    if (rc != SQLITE_OK) return Error(db, rc, std::string("prepare ") + sql);
    return Status::Ok();
  }
  sqlite3_stmt* get() const { return stmt_; }
  sqlite3* db() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Binds by position (1-based) and steps; resets the statement on scope exit.
// Bound strings must outlive the Use (SQLITE_STATIC).
class Use {
 public:
  explicit Use(Stmt& s) : s_(s.get()), db_(s.db()) {}
  ~Use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& Text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
    return *this;
  }
  Use& Blob(int i, std::string_view v) {
    // A non-null pointer, so an empty payload is an empty blob, not NULL.
    sqlite3_bind_blob(s_, i, v.empty() ? "" : v.data(),
                      static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Use& Int(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Use& U64(int i, std::uint64_t v) {
    return Int(i, static_cast<std::int64_t>(v));  // bit-for-bit
  }
  // SQLITE_ROW -> true, SQLITE_DONE -> false.
  Result<bool> Step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error(db_, sqlite3_extended_errcode(db_), sqlite3_sql(s_));
  }
  Status Run() {
    for (;;) {
      auto r = Step();
      if (!r.ok()) return r.status();
      if (!*r) return Status::Ok();
    }
  }
  std::int64_t ColInt(int c) const { return sqlite3_column_int64(s_, c); }
  bool ColNull(int c) const {
    return sqlite3_column_type(s_, c) == SQLITE_NULL;
  }
  std::string ColText(int c) const {
    const void* p = sqlite3_column_blob(s_, c);
    int n = sqlite3_column_bytes(s_, c);
    return p == nullptr ? std::string()
                        : std::string(static_cast<const char*>(p), n);
  }

 private:
  sqlite3_stmt* s_;
  sqlite3* db_;
};

}  // namespace weft::store::sqlite
