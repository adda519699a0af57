#pragma once

// libpq plumbing for PgStore: parameters, results, and a bounded pool of
// connections that each have every statement prepared and are re-established
// with backoff when broken. Internal to src/store.

#include <libpq-fe.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace weft::store::pg {

// Out-of-line parameters, all sent in binary format. Views must outlive
// the call they are passed to.
class Params {
 public:
  Params& Text(std::string_view v) { return Add(v); }
  Params& Bytes(std::string_view v) { return Add(v); }
  Params& Int(std::int64_t v);
  Params& U64(std::uint64_t v) { return Int(static_cast<std::int64_t>(v)); }
  Params& Null();
  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  Params& Add(std::string_view v);
  std::deque<std::string> ints_;  // stable storage for encoded integers
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// A one-dimensional array parameter in binary format (what array_recv
// reads), built element by element; pass data() with Params::Bytes and keep
// the ArrayParam alive until the call returns.
class ArrayParam {
 public:
  static constexpr Oid kInt8 = 20, kText = 25, kBytea = 17;
  explicit ArrayParam(Oid element_type);
  ArrayParam& Int(std::int64_t v);
  ArrayParam& Bytes(std::string_view v);  // a text or bytea element
  std::string_view data();

 private:
  void Put32(std::int32_t v);
  std::string buf_;
  std::int32_t count_ = 0;
};

// An owned PGresult (binary format results).
class Res {
 public:
  Res() = default;
  explicit Res(PGresult* r) : r_(r, &PQclear) {}
  PGresult* get() const { return r_.get(); }
  int rows() const { return PQntuples(r_.get()); }
  bool IsNull(int row, int col) const {
    return PQgetisnull(r_.get(), row, col) != 0;
  }
  std::int64_t Int(int row, int col) const;   // int8, int4 or bool
  std::string Bytes(int row, int col) const;  // text or bytea

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_{nullptr, &PQclear};
};

// The Status of a failed result or connection.
Status ErrorOf(PGconn* conn, const PGresult* res, std::string_view what);

// A statement to prepare on every connection.
struct StatementDef {
  const char* name;
  const char* sql;
};

class Pool;

// A connection leased from the pool; returned on destruction. Mark it
// broken() when a call failed in a way that may have broken it.
class Conn {
 public:
  Conn(Pool* pool, PGconn* conn) : pool_(pool), conn_(conn) {}
  ~Conn();
  Conn(Conn&& o) noexcept
      : pool_(std::exchange(o.pool_, nullptr)),
        conn_(std::exchange(o.conn_, nullptr)) {}
  Conn& operator=(Conn&&) = delete;

  PGconn* get() const { return conn_; }
  // Runs a prepared statement; ok results only (TUPLES_OK / COMMAND_OK).
  Result<Res> Exec(const char* name, const Params& params);
  Result<Res> Exec(const char* name) { return Exec(name, Params()); }
  // Runs SQL text without parameters (DDL at migration time only).
  Status ExecScript(const std::string& sql);

 private:
  Pool* pool_;
  PGconn* conn_;
};

// Every connection keeps TCP keep-alives on (after 30 s idle, every 10 s,
// 3 probes) and a TCP user timeout (30 s), so that a server that vanished
// without closing (a dead host, a partition) fails a call within about a
// minute instead of hanging it for hours. The conninfo may set each of
// them otherwise; a conninfo that names a service (or PGSERVICE) gets no
// defaults, so the service file's settings apply as they are.
class Pool {
 public:
  Pool(std::string conninfo, std::size_t size, int connect_timeout_ms,
       std::vector<StatementDef> statements, int acquire_timeout_ms = 10'000);
  ~Pool();

  // How long Acquire waits for a free connection.
  enum class Wait {
    kBounded,    // up to the acquire timeout (none if it is <= 0)
    kUnbounded,  // until one is free (the group committer's own thread)
  };
  // Waits for a free connection (kUnavailable once a bounded wait passes:
  // every connection stayed busy); (re)connects with backoff if needed.
  Result<Conn> Acquire(Wait wait = Wait::kBounded);

 private:
  friend class Conn;
  void Release(PGconn* conn);
  Result<PGconn*> Connect();

  const std::string conninfo_;
  const std::size_t size_;
  const int connect_timeout_ms_;
  const int acquire_timeout_ms_;
  const std::vector<StatementDef> statements_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PGconn*> idle_;  // guarded by mu_
  std::size_t leased_ = 0;     // guarded by mu_
};

}  // namespace weft::store::pg
