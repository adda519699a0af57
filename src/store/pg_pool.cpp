#include "store/pg_pool.h"

#include <arpa/inet.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

namespace weft::store::pg {
namespace {

std::uint64_t ToBigEndian(std::uint64_t v) {
  return (static_cast<std::uint64_t>(htonl(static_cast<std::uint32_t>(v)))
          << 32) |
         htonl(static_cast<std::uint32_t>(v >> 32));
}

// Whether libpq would read a service file for this conninfo.
bool NamesAService(const std::string& conninfo) {
  const char* env = std::getenv("PGSERVICE");
  if (env != nullptr && *env != '\0') return true;
  char* error = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  bool service = false;
  for (PQconninfoOption* o = opts; o != nullptr && o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "service") == 0 && o->val != nullptr &&
        *o->val != '\0') {
      service = true;
    }
  }
  PQconninfoFree(opts);
  return service;
}

// An idle connection has nothing to read: one that is readable (or hung
// up) was closed by the server meanwhile (a restart, pg_terminate_backend,
// idle_session_timeout), and the call made on it would fail.
bool ClosedWhileIdle(PGconn* c) {
  int fd = PQsocket(c);
  if (fd < 0) return true;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

// A server that only reads now (a standby after a failover, a database
// or server set default_transaction_read_only): its connections are not
// kept, so that the next one finds a server that writes (a multi-host
// conninfo with target_session_attrs=read-write) once there is one.
// PostgreSQL 14 and later report both settings to the client.
bool ReadOnly(PGconn* c) {
  for (const char* name : {"default_transaction_read_only", "in_hot_standby"}) {
    const char* v = PQparameterStatus(c, name);
    if (v != nullptr && std::string_view(v) == "on") return true;
  }
  return false;
}

}  // namespace

Params& Params::Int(std::int64_t v) {
  std::uint64_t be = ToBigEndian(static_cast<std::uint64_t>(v));
  ints_.emplace_back(reinterpret_cast<const char*>(&be), sizeof(be));
  values_.push_back(ints_.back().data());
  lengths_.push_back(8);
  formats_.push_back(1);
  return *this;
}

Params& Params::Null() {
  values_.push_back(nullptr);
  lengths_.push_back(0);
  formats_.push_back(1);
  return *this;
}

Params& Params::Add(std::string_view v) {
  // A non-null pointer: an empty value is empty, not NULL.
  values_.push_back(v.empty() ? "" : v.data());
  lengths_.push_back(static_cast<int>(v.size()));
  formats_.push_back(1);
  return *this;
}

ArrayParam::ArrayParam(Oid element_type) {
  Put32(1);  // dimensions
  Put32(0);  // no NULL elements
  Put32(static_cast<std::int32_t>(element_type));
  Put32(0);  // the element count, set by data()
  Put32(1);  // lower bound
}

void ArrayParam::Put32(std::int32_t v) {
  std::uint32_t be = htonl(static_cast<std::uint32_t>(v));
  buf_.append(reinterpret_cast<const char*>(&be), sizeof(be));
}

ArrayParam& ArrayParam::Int(std::int64_t v) {
  Put32(8);
  std::uint64_t be = ToBigEndian(static_cast<std::uint64_t>(v));
  buf_.append(reinterpret_cast<const char*>(&be), sizeof(be));
  ++count_;
  return *this;
}

ArrayParam& ArrayParam::Bytes(std::string_view v) {
  Put32(static_cast<std::int32_t>(v.size()));
  buf_.append(v);
  ++count_;
  return *this;
}

std::string_view ArrayParam::data() {
  std::uint32_t be = htonl(static_cast<std::uint32_t>(count_));
  std::memcpy(buf_.data() + 12, &be, sizeof(be));
  return buf_;
}

std::int64_t Res::Int(int row, int col) const {
  const char* p = PQgetvalue(r_.get(), row, col);
  int n = PQgetlength(r_.get(), row, col);
  if (n == 8) {
    std::uint64_t be;
    std::memcpy(&be, p, 8);
    return static_cast<std::int64_t>(ToBigEndian(be));
  }
  if (n == 4) {
    std::uint32_t be;
    std::memcpy(&be, p, 4);
    return static_cast<std::int32_t>(ntohl(be));
  }
  if (n == 1) return p[0] != 0;
  return 0;
}

std::string Res::Bytes(int row, int col) const {
  return std::string(PQgetvalue(r_.get(), row, col),
                     static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
}

Status ErrorOf(PGconn* conn, const PGresult* res, std::string_view what) {
  std::string msg = "postgres: " + std::string(what) + ": ";
  const char* state =
      res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* text = res != nullptr ? PQresultErrorMessage(res) : "";
  if (text == nullptr || *text == '\0') text = PQerrorMessage(conn);
  msg += text;
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  if (PQstatus(conn) != CONNECTION_OK || state == nullptr) {
    return Status::Unavailable(msg);
  }
  std::string_view s(state);
  if (s == "23505") return Status::AlreadyExists(msg);
  if (s.starts_with("23") || s.starts_with("22")) {
    return Status::InvalidArgument(msg);
  }
  if (s == "40001" || s == "40P01") return Status::Aborted(msg);
  // 25006: a write on a server that only reads now (see ReadOnly).
  if (s.starts_with("08") || s.starts_with("57P") || s.starts_with("53") ||
      s == "25006") {
    return Status::Unavailable(msg);
  }
  // Canceled after waiting too long (an operator's statement_timeout, or
  // a cancel request) or for a lock (lock_timeout): worth a retry.
  if (s == "57014" || s == "55P03") return Status::Unavailable(msg);
  if (s == "XX001" || s == "XX002") return Status::Corruption(msg);
  return Status::Internal(msg);
}

Conn::~Conn() {
  if (pool_ != nullptr) pool_->Release(conn_);
}

Result<Res> Conn::Exec(const char* name, const Params& params) {
  Res r(PQexecPrepared(conn_, name, params.size(), params.values(),
                       params.lengths(), params.formats(), 1));
  ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    return ErrorOf(conn_, r.get(), name);
  }
  return r;
}

Status Conn::ExecScript(const std::string& sql) {
  Res r(PQexec(conn_, sql.c_str()));
  ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    return ErrorOf(conn_, r.get(), "migration");
  }
  return Status::Ok();
}

Pool::Pool(std::string conninfo, std::size_t size, int connect_timeout_ms,
           std::vector<StatementDef> statements, int acquire_timeout_ms)
    : conninfo_(std::move(conninfo)),
      size_(std::max<std::size_t>(size, 1)),
      connect_timeout_ms_(connect_timeout_ms),
      acquire_timeout_ms_(acquire_timeout_ms),
      statements_(std::move(statements)) {}

Pool::~Pool() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return leased_ == 0; });
  for (PGconn* c : idle_) {
    if (c != nullptr) PQfinish(c);
  }
}

Result<Conn> Pool::Acquire(Wait wait) {
  PGconn* conn = nullptr;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto free = [this] { return !idle_.empty() || leased_ < size_; };
    // Callers are request handlers on I/O threads: a pool held by calls
    // that do not return (a server that stopped answering) must not hold
    // them all for good.
    if (wait == Wait::kUnbounded || acquire_timeout_ms_ <= 0) {
      cv_.wait(lock, free);
    } else if (!cv_.wait_for(lock,
                             std::chrono::milliseconds(acquire_timeout_ms_),
                             free)) {
      return Status::Unavailable("postgres: all " + std::to_string(size_) +
                                 " pooled connections stayed busy for " +
                                 std::to_string(acquire_timeout_ms_) + " ms");
    }
    if (!idle_.empty()) {
      conn = idle_.back();
      idle_.pop_back();
    }
    ++leased_;
  }
  // A connection left in a transaction, broken or closed by the server
  // while idle is not reused.
  if (conn != nullptr &&
      (PQstatus(conn) != CONNECTION_OK ||
       PQtransactionStatus(conn) != PQTRANS_IDLE || ClosedWhileIdle(conn))) {
    PQfinish(conn);
    conn = nullptr;
  }
  if (conn == nullptr) {
    auto c = Connect();
    if (!c.ok()) {
      Release(nullptr);
      return c.status();
    }
    conn = *c;
  }
  return Conn(this, conn);
}

void Pool::Release(PGconn* conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (conn != nullptr) {
    if (PQstatus(conn) == CONNECTION_OK &&
        PQtransactionStatus(conn) == PQTRANS_IDLE && !ReadOnly(conn)) {
      idle_.push_back(conn);
    } else {
      PQfinish(conn);
    }
  }
  --leased_;
  cv_.notify_one();
}

Result<PGconn*> Pool::Connect() {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(connect_timeout_ms_);
  auto backoff = std::chrono::milliseconds(50);
  // Defaults first, then the conninfo (expanded from dbname), whose own
  // settings override them: libpq keeps the last value of a key word. A
  // service file's settings would not (libpq fills in only what is unset),
  // so a conninfo that uses one gets no defaults.
  // connect_timeout bounds one attempt (a server that accepts the TCP
  // connection and never answers the startup would hold it for good).
  static constexpr const char* kKeys[] = {"keepalives",
                                          "keepalives_idle",
                                          "keepalives_interval",
                                          "keepalives_count",
                                          "tcp_user_timeout",
                                          "connect_timeout",
                                          "dbname",
                                          nullptr};
  // (PGCONNECT_TIMEOUT, when set, is the operator's default instead.)
  const char* env_timeout = std::getenv("PGCONNECT_TIMEOUT");
  const char* values[] = {
      "1",
      "30",
      "10",
      "3",
      "30000",
      env_timeout != nullptr && *env_timeout != '\0' ? env_timeout : "10",
      conninfo_.c_str(),
      nullptr};
  static_assert(std::string_view(kKeys[6]) == "dbname");
  const int first = NamesAService(conninfo_) ? 6 : 0;  // from "dbname"
  for (;;) {
    PGconn* c =
        PQconnectdbParams(kKeys + first, values + first, /*expand_dbname=*/1);
    Status err;
    if (PQstatus(c) == CONNECTION_OK) {
      // Server notices ("relation already exists, skipping") are not errors.
      PQsetNoticeProcessor(
          c, [](void*, const char*) {}, nullptr);
      // Statements are planned at each execution, for the tables' sizes
      // then. A generic plan is kept until the next ANALYZE of a table it
      // reads, and one made while a table was small (just after an
      // ANALYZE of the young table) goes on scanning it whole while it
      // grows. A hot statement that reads no table by a planned path can
      // opt back in for its transaction (set_config(..., true)).
      // An acknowledged append is durable: a role or database set to
      // synchronous_commit=off (a common tuning) would lose acknowledged
      // appends in a crash, so such a session flushes its commits locally
      // ('local': not 'on', which would also wait for a synchronous
      // standby the operator chose not to wait for). Other settings
      // (local, remote_write, on, remote_apply) are kept.
      {
        Res r(PQexec(c,
                     "SET plan_cache_mode = force_custom_plan;"
                     " SELECT set_config('synchronous_commit', 'local', false)"
                     " WHERE current_setting('synchronous_commit') = 'off'"));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
          err = ErrorOf(c, r.get(), "set session");
        }
      }
      for (const StatementDef& s : statements_) {
        if (!err.ok()) break;
        Res r(PQprepare(c, s.name, s.sql, 0, nullptr));
        if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
          err = ErrorOf(c, r.get(), std::string("prepare ") + s.name);
          break;
        }
      }
      if (err.ok()) return c;
      // A statement that does not prepare is a bug or a schema mismatch,
      // not an outage: do not retry.
      if (err.code() != StatusCode::kUnavailable) {
        PQfinish(c);
        return err;
      }
    } else {
      err = Status::Unavailable(std::string("postgres: connect: ") +
                                PQerrorMessage(c));
    }
    PQfinish(c);
    if (std::chrono::steady_clock::now() + backoff > deadline) return err;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace weft::store::pg
