// PostgreSQL-specific tests: reconnecting after the server drops our
// connections, migrations and the recovery checks on open.
#include "store/pg_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/pg_pool.h"
#include "store/pg_statements.h"
#include "store/store_test_backends.h"
#include "store/store_test_workload.h"

namespace weft::store::testing {
namespace {

class PgStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { PgBackend::SetUpTestSuite(); }
  static void TearDownTestSuite() { PgBackend::TearDownTestSuite(); }

  void SetUp() override {
    auto db = PgBackend::server()->CreateDatabase();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    opts_.conninfo = PgBackend::server()->ConnInfo(*db);
  }

  // Runs SQL as the superuser on the test database.
  Status Sql(const std::string& sql) {
    PGconn* c = PQconnectdb(opts_.conninfo.c_str());
    PGresult* r = PQexec(c, sql.c_str());
    ExecStatusType st = PQresultStatus(r);
    std::string err = PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
    return (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
               ? Status::Ok()
               : Status::Internal(err);
  }

  // The test database's name.
  std::string DbName() const {
    PGconn* c = PQconnectdb(opts_.conninfo.c_str());
    std::string name = PQdb(c);
    PQfinish(c);
    return name;
  }

  void Seed() {
    auto s = OpenPgStore(opts_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    std::vector<NewOp> ops;
    for (std::uint64_t i = 1; i <= 5; ++i) ops.push_back(OpFor({1, i}));
    ASSERT_TRUE((*s)->Append("doc", ops).ok());
    ASSERT_TRUE((*s)->SaveSnapshot({"doc", 3, 0, "snap"}).ok());
  }

  PgOptions opts_;
};

TEST_F(PgStoreTest, ReconnectsAfterTheServerDropsItsConnections) {
  auto s = OpenPgStore(opts_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Store& store = **s;
  ASSERT_TRUE(AppendOp(store, "doc", {1, 1}).ok());
  ASSERT_TRUE(store.LastSeq("doc").ok());
  // Kill every other session of this database (ours, pooled and idle),
  // and wait until they are gone (a restart, idle_session_timeout).
  ASSERT_TRUE(Sql("SELECT pg_terminate_backend(pid, 5000) FROM "
                  "pg_stat_activity WHERE datname = current_database() AND "
                  "pid <> pg_backend_pid()")
                  .ok());
  // The pool sees that its idle connections were closed and connects
  // again: no call fails. (Before, each dead connection failed the next
  // call made on it, and the hub dropped every document of a group that
  // failed so.)
  std::vector<NewOp> batch{OpFor({1, 2}), OpFor({1, 3})};
  auto r = store.Append("doc", batch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->seqs, (std::vector<std::int64_t>{2, 3}));
  auto last = store.LastSeq("doc");
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(*last, 3);
}

// A server that only reads now (a database set read-only here; a standby
// after a failover): a write fails as unavailable (retried by clients),
// not as an internal error, and its connections are not kept, so that
// writes go on once the server writes again.
TEST_F(PgStoreTest, AServerThatOnlyReadsIsUnavailableAndNotKept) {
  auto s = OpenPgStore(opts_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Store& store = **s;
  ASSERT_TRUE(AppendOp(store, "doc", {1, 1}).ok());
  auto terminate_others = [&] {
    return Sql(
        "SELECT pg_terminate_backend(pid, 5000) FROM "
        "pg_stat_activity WHERE datname = current_database() AND "
        "pid <> pg_backend_pid()");
  };
  const std::string db = DbName();
  ASSERT_TRUE(Sql("ALTER DATABASE \"" + db +
                  "\" SET default_transaction_read_only = on")
                  .ok());
  ASSERT_TRUE(terminate_others().ok());
  std::vector<NewOp> one{OpFor({1, 2})};
  for (int attempt = 0; attempt < 3; ++attempt) {  // on new connections too
    auto refused = store.Append("doc", one);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable)
        << refused.status().ToString();
  }
  ASSERT_TRUE(Sql("BEGIN READ WRITE; ALTER DATABASE \"" + db +
                  "\" RESET default_transaction_read_only; COMMIT")
                  .ok());
  // The read-only connections were dropped: the next ones write.
  auto r = store.Append("doc", one);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->seqs, (std::vector<std::int64_t>{2}));
}

// Acknowledged means durable, also where the database's default is
// synchronous_commit=off (a common tuning that loses the last commits in
// a crash): such sessions flush their commits locally.
TEST_F(PgStoreTest, CommitsSynchronouslyWhateverTheDatabaseDefault) {
  const std::string db = DbName();
  auto setting = [](pg::Conn& c) {
    pg::Res r(PQexec(c.get(), "SHOW synchronous_commit"));
    return r.rows() == 1 ? r.Bytes(0, 0) : std::string("?");
  };
  ASSERT_TRUE(
      Sql("ALTER DATABASE \"" + db + "\" SET synchronous_commit = off").ok());
  {
    pg::Pool pool(opts_.conninfo, 1, 5000, {});
    auto c = pool.Acquire();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(setting(*c), "local");  // flushed here, no standby waited for
  }
  // Any other setting is kept.
  ASSERT_TRUE(
      Sql("ALTER DATABASE \"" + db + "\" SET synchronous_commit = remote_write")
          .ok());
  {
    pg::Pool pool(opts_.conninfo, 1, 5000, {});
    auto c = pool.Acquire();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(setting(*c), "remote_write");
  }
}

// A store numbers a document's appends from the last seq it committed
// itself; another writer on the same database (a second server, an admin
// tool) makes that stale. The collision must be caught and the append
// numbered after the other writer's ops, never failed or stored with a gap.
TEST_F(PgStoreTest, AppendsAfterAnotherWritersOpsWithoutAGap) {
  auto a = OpenPgStore(opts_);
  auto b = OpenPgStore(opts_);
  ASSERT_TRUE(a.ok() && b.ok());
  std::int64_t expect = 0;
  for (std::uint64_t i = 1; i <= 6; ++i) {
    Store& writer = (i % 3 == 0) ? **b : **a;  // a, a, b, a, a, b
    auto r = AppendOp(writer, "doc", {i, 1});
    ASSERT_TRUE(r.ok()) << "append " << i << ": " << r.status().ToString();
    EXPECT_EQ(r->seqs, std::vector<std::int64_t>{++expect}) << "append " << i;
    EXPECT_EQ(r->last_seq, expect);
  }
  // A retry of the other writer's op is recognised as a duplicate.
  auto again = AppendOp(**a, "doc", {3, 1});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->seqs, std::vector<std::int64_t>{3});
  EXPECT_EQ(again->duplicate, std::vector<bool>{true});
  auto ops = (*a)->ReadOps("doc", 0, 0);
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 6u);
  for (std::size_t i = 0; i < ops->size(); ++i) {
    EXPECT_EQ((*ops)[i].seq, static_cast<std::int64_t>(i) + 1);
  }
}

// The other way round: after a failover to a standby that missed the last
// commits (simulated by swapping in a copy of the database taken earlier),
// the table is behind the seq the store remembers. The next append must be
// numbered from the table, not past a gap.
TEST_F(PgStoreTest, AppendsFromTheTableAfterAFailoverLostCommits) {
  auto db = PgBackend::server()->CreateDatabase("weft_failover");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  opts_.conninfo = PgBackend::server()->ConnInfo(*db);
  auto admin = [](const std::string& sql) {
    PGconn* c = PQconnectdb(PgBackend::server()->ConnInfo("postgres").c_str());
    PGresult* r = PQexec(c, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
              PQresultStatus(r) == PGRES_TUPLES_OK;
    std::string err = PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
    return ok ? Status::Ok() : Status::Internal(err);
  };
  auto kick = [&] {
    return admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
        "datname = '" +
        *db + "'");
  };
  auto append = [](Store& s, std::vector<NewOp> ops) {
    Result<AppendResult> r = Status::Unavailable("not tried");
    for (int i = 0; i < 3 && !r.ok(); ++i) r = s.Append("doc", ops);
    return r;
  };
  auto s = OpenPgStore(opts_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Store& store = **s;
  ASSERT_TRUE(append(store, {OpFor({1, 1})}).ok());
  // The "standby" stops receiving changes here: it has seq 1.
  ASSERT_TRUE(kick().ok());
  ASSERT_TRUE(
      admin("CREATE DATABASE " + *db + "_standby TEMPLATE " + *db).ok());
  auto lost = append(store, {OpFor({1, 2}), OpFor({1, 3})});
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  EXPECT_EQ(lost->seqs, (std::vector<std::int64_t>{2, 3}));
  // Failover: the commit of seqs 2 and 3 is lost.
  ASSERT_TRUE(kick().ok());
  ASSERT_TRUE(
      admin("ALTER DATABASE " + *db + " RENAME TO " + *db + "_old").ok());
  ASSERT_TRUE(
      admin("ALTER DATABASE " + *db + "_standby RENAME TO " + *db).ok());
  // A reader reconnects first, so the committer's next group finds a live
  // connection and no error that would make it forget the document.
  auto seen = store.LastSeq("doc");
  for (int i = 0; i < 5 && !seen.ok(); ++i) seen = store.LastSeq("doc");
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_EQ(*seen, 1);
  auto next = append(store, {OpFor({1, 4})});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->seqs, std::vector<std::int64_t>{2}) << "numbered past a gap";
  // And the store goes on from there, trusting its seqs again.
  auto after = append(store, {OpFor({1, 5})});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->seqs, std::vector<std::int64_t>{3});
  Status v = store.Verify(nullptr);
  EXPECT_TRUE(v.ok()) << v.ToString();
}

// One group on documents whose seqs the committer knows, mixing a large
// request, new ops, a retried op and (from round 10) a request PostgreSQL
// refuses (a user id that is not UTF-8): the bad request fails alone, the
// retry gets its original seq and the new ops stay gap-free.
TEST_F(PgStoreTest, AGroupMixingARetryAndABadRequestOnKnownDocuments) {
  // Groups of at least 3 ops other than the 200-op request alone hold two
  // requests or more: proof that the mix was committed together.
  std::atomic<int> mixed_groups{0};
  opts_.on_commit = [&mixed_groups](std::size_t ops, auto) {
    if (ops >= 3 && ops != 200) ++mixed_groups;
  };
  auto s = OpenPgStore(opts_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Store& store = **s;
  for (const char* d : {"a", "b", "c", "z"}) {
    ASSERT_TRUE(AppendOp(store, d, {9, 1}).ok());
  }
  for (std::uint64_t round = 0; round < 20; ++round) {
    std::mutex mu;
    std::condition_variable cv;
    int pending = 5;
    std::vector<Result<AppendResult>> out(5, Status::Internal("unset"));
    auto cb = [&](int i) {
      return [&, i](Result<AppendResult> r) {
        std::lock_guard lock(mu);
        out[i] = std::move(r);
        --pending;
        cv.notify_all();
      };
    };
    std::vector<NewOp> big;
    for (std::uint64_t k = 0; k < 200; ++k)
      big.push_back(OpFor({100 + round, k}));
    NewOp bad = OpFor({2, round});
    if (round >= 10) bad.user_id = "\xff\xfe";
    store.AppendAsync("z", big, cb(0));
    store.AppendAsync("a", {OpFor({1, round})}, cb(1));
    store.AppendAsync("b", {bad}, cb(2));
    store.AppendAsync("c", {OpFor({9, 1}), OpFor({3, round})}, cb(3));
    store.AppendAsync("a", {OpFor({4, round})}, cb(4));
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return pending == 0; });
    for (int i : {0, 1, 3, 4}) {
      ASSERT_TRUE(out[i].ok()) << i << ": " << out[i].status().ToString();
    }
    EXPECT_EQ(out[2].ok(), round < 10) << out[2].status().ToString();
    EXPECT_EQ(out[3]->seqs, (std::vector<std::int64_t>{
                                1, static_cast<std::int64_t>(round) + 2}));
    EXPECT_EQ(out[3]->duplicate, (std::vector<bool>{true, false}));
    EXPECT_EQ(out[1]->seqs[0], static_cast<std::int64_t>(2 * round + 2));
    EXPECT_EQ(out[4]->seqs[0], static_cast<std::int64_t>(2 * round + 3));
  }
  EXPECT_TRUE(store.Verify(nullptr).ok());
  auto b = store.LastSeq("b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, 11);
  EXPECT_GT(mixed_groups.load(), 0);
}

// The writers take a document's advisory lock and then read its last seq:
// under a snapshot taken before the lock was granted (a server whose
// default_transaction_isolation is repeatable read or serializable) they
// would number from a stale seq. Their transactions say read committed.
TEST_F(PgStoreTest, WritersAreReadCommittedWhateverTheServerDefault) {
  opts_.conninfo += " options='-c default_transaction_isolation=serializable'";
  auto a = OpenPgStore(opts_);
  auto b = OpenPgStore(opts_);
  ASSERT_TRUE(a.ok() && b.ok());
  constexpr std::uint64_t kEach = 25;
  std::atomic<int> failures{0};
  std::string first_error;
  std::mutex mu;
  std::vector<std::thread> writers;
  for (std::uint64_t t = 0; t < 4; ++t) {
    Store& store = (t % 2 == 0) ? **a : **b;
    writers.emplace_back([&store, &failures, &first_error, &mu, t] {
      for (std::uint64_t i = 0; i < kEach; ++i) {
        auto r = AppendOp(store, "doc", {t + 1, i});
        if (!r.ok()) {
          std::lock_guard lock(mu);
          if (failures++ == 0) first_error = r.status().ToString();
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(failures.load(), 0) << first_error;
  auto last = (*a)->LastSeq("doc");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, static_cast<std::int64_t>(4 * kEach));
  EXPECT_TRUE((*a)->Verify(nullptr).ok());
}

// A plan made while `ops` was small must not outlive its growth: the pool
// plans each statement at its execution (plan_cache_mode), so a connection
// whose statements ran against a one-row, freshly analysed table plans them
// with indexes once it holds 20,000 rows. (With PostgreSQL's default, the
// generic plan cached then scanned the whole table until the next ANALYZE:
// minutes of a 1,000-op group probing each op id by a scan.)
TEST_F(PgStoreTest, NoPlanMadeWhileTheLogWasSmallScansItOnceItGrew) {
  auto s = OpenPgStore(opts_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(AppendOp(**s, "r", {1, 1}).ok());
  ASSERT_TRUE(Sql("ALTER TABLE ops SET (autovacuum_enabled = false)").ok());
  ASSERT_TRUE(Sql("ANALYZE ops").ok());
  const std::vector<std::string> reads = {
      "last_seqs('{r}')",      "find_ops('{r}', '{1}', '{1}')",
      "find_op('r', 1, 1)",    "last_seq('r')",
      "read_ops('r', 0, 100)", "count_compacted_after('r', 0)",
      "dump_ops('r')",         "compact_ops('r', 1)",
  };
  pg::Pool pool(opts_.conninfo, 1, 5000, PgStatements());
  auto conn = pool.Acquire();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto run = [&](const std::string& sql) {
    pg::Res r(PQexec(conn->get(), sql.c_str()));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK)
        << sql << ": " << PQerrorMessage(conn->get());
    std::string text;
    for (int i = 0; i < r.rows(); ++i) {
      text += std::string(PQgetvalue(r.get(), i, 0)) + "\n";
    }
    return text;
  };
  // Enough executions for PostgreSQL to settle on a generic plan.
  for (int i = 0; i < 8; ++i) {
    for (const std::string& stmt : reads) run("EXPLAIN EXECUTE " + stmt);
  }
  for (std::uint64_t d = 0; d < 20; ++d) {
    std::vector<NewOp> ops;
    for (std::uint64_t k = 1; k <= 1000; ++k)
      ops.push_back(OpFor({100 + d, k}));
    ASSERT_TRUE((*s)->Append("g" + std::to_string(d), ops).ok());
  }
  for (const std::string& stmt : reads) {
    std::string plan = run("EXPLAIN (COSTS OFF) EXECUTE " + stmt);
    EXPECT_EQ(plan.find("Seq Scan on ops"), std::string::npos)
        << stmt << " scans the log:\n"
        << plan;
  }
  // The one-round-trip group's opt-out lasts for its transaction only,
  // committed or rolled back (a collision aborts it before the retry's
  // reads run on the same connection).
  auto exec = [&](const char* sql) {
    pg::Res r(PQexec(conn->get(), sql));
    return PQresultStatus(r.get());
  };
  EXPECT_EQ(run("SHOW plan_cache_mode"), "force_custom_plan\n");
  for (const char* end : {"COMMIT", "ROLLBACK"}) {
    ASSERT_EQ(exec("BEGIN"), PGRES_COMMAND_OK);
    run("EXECUTE cached_plans");
    EXPECT_EQ(run("SHOW plan_cache_mode"), "auto\n");
    if (std::string(end) == "ROLLBACK") {
      EXPECT_EQ(exec("SELECT 1/0"), PGRES_FATAL_ERROR);  // aborts it
    }
    EXPECT_EQ(exec(end), PGRES_COMMAND_OK);
    EXPECT_EQ(run("SHOW plan_cache_mode"), "force_custom_plan\n") << end;
  }
}

TEST_F(PgStoreTest, FailsWithUnavailableWhenTheServerIsUnreachable) {
  PgOptions bad;
  bad.conninfo = "host=127.0.0.1 port=1 dbname=x connect_timeout=1";
  bad.connect_timeout_ms = 200;  // a few backoff rounds
  auto s = OpenPgStore(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
}

// Calls come from request handlers on I/O threads: while every pooled
// connection is held by calls that do not return, another call fails once
// the acquire timeout passes instead of waiting for good.
TEST_F(PgStoreTest, ACallWaitsForABusyPoolOnlyUntilTheAcquireTimeout) {
  using namespace std::chrono_literals;
  pg::Pool pool(opts_.conninfo, 1, 5000, {}, /*acquire_timeout_ms=*/300);
  std::optional<Result<pg::Conn>> held(pool.Acquire());
  ASSERT_TRUE(held->ok()) << held->status().ToString();
  auto start = std::chrono::steady_clock::now();
  auto waiter = std::async(std::launch::async, [&] { return pool.Acquire(); });
  bool returned = waiter.wait_for(10s) == std::future_status::ready;
  auto waited = std::chrono::steady_clock::now() - start;
  held.reset();  // lets a waiter that would not give up finish
  ASSERT_TRUE(returned) << "still waiting for a connection after 10 s";
  auto second = waiter.get();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("busy"), std::string::npos)
      << second.status().ToString();
  EXPECT_GE(waited, 300ms);
  // The connection given back serves the next call.
  EXPECT_TRUE(pool.Acquire().ok());
}

// The group committer's thread waits for a connection as long as it takes
// (a group must not fail because reads keep the pool busy), and so does
// every caller when the acquire timeout is 0.
TEST_F(PgStoreTest, AnUnboundedAcquireWaitsPastTheAcquireTimeout) {
  using namespace std::chrono_literals;
  for (int timeout_ms : {100, 0}) {
    pg::Pool pool(opts_.conninfo, 1, 5000, {}, timeout_ms);
    std::optional<Result<pg::Conn>> held(pool.Acquire());
    ASSERT_TRUE(held->ok()) << held->status().ToString();
    auto wait =
        timeout_ms > 0 ? pg::Pool::Wait::kUnbounded : pg::Pool::Wait::kBounded;
    auto waiter =
        std::async(std::launch::async, [&] { return pool.Acquire(wait); });
    bool returned = waiter.wait_for(600ms) == std::future_status::ready;
    held.reset();
    EXPECT_FALSE(returned) << "gave up with a timeout of " << timeout_ms;
    auto got = waiter.get();
    EXPECT_TRUE(got.ok()) << got.status().ToString();
  }
}

// A server that vanishes without closing (a dead host, a partition) must
// fail calls within about a minute: pooled connections use TCP keep-alives
// and a TCP user timeout, unless the conninfo (key words or URI) sets them.
TEST_F(PgStoreTest, ConnectionsUseKeepAlivesUnlessTheConninfoSaysOtherwise) {
  auto option = [](const pg::Conn& c, std::string_view key) {
    std::string value;
    PQconninfoOption* opts = PQconninfo(c.get());
    for (PQconninfoOption* o = opts; o != nullptr && o->keyword; ++o) {
      if (key == o->keyword && o->val != nullptr) value = o->val;
    }
    PQconninfoFree(opts);
    return value;
  };
  // The machine's own service settings stay out of it, and come back.
  auto saved = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  const auto service_env = saved("PGSERVICE");
  const auto service_file_env = saved("PGSERVICEFILE");
  auto restore = [](const char* name, const std::optional<std::string>& v) {
    if (v) {
      ::setenv(name, v->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  };
  ::unsetenv("PGSERVICE");
  auto db = PgBackend::server()->CreateDatabase();
  ASSERT_TRUE(db.ok());
  std::string port;
  {
    pg::Pool pool(PgBackend::server()->ConnInfo(*db), 1, 5000, {});
    auto c = pool.Acquire();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(option(*c, "keepalives"), "1");
    EXPECT_EQ(option(*c, "keepalives_idle"), "30");
    EXPECT_EQ(option(*c, "keepalives_interval"), "10");
    EXPECT_EQ(option(*c, "keepalives_count"), "3");
    EXPECT_EQ(option(*c, "tcp_user_timeout"), "30000");
    EXPECT_EQ(std::string(PQdb(c->get())), *db);
    port = option(*c, "port");
  }
  {
    pg::Pool pool(PgBackend::server()->ConnInfo(*db) +
                      " keepalives_idle=77 tcp_user_timeout=1234",
                  1, 5000, {});
    auto c = pool.Acquire();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(option(*c, "keepalives_idle"), "77");
    EXPECT_EQ(option(*c, "tcp_user_timeout"), "1234");
    EXPECT_EQ(option(*c, "keepalives_count"), "3");
  }
  {
    pg::Pool pool("postgresql://postgres@127.0.0.1:" + port + "/" + *db +
                      "?tcp_user_timeout=4321",
                  1, 5000, {});
    auto c = pool.Acquire();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(option(*c, "tcp_user_timeout"), "4321");
    EXPECT_EQ(option(*c, "keepalives_idle"), "30");
    // One attempt to connect is bounded too (the test servers' conninfo
    // above sets its own).
    EXPECT_EQ(option(*c, "connect_timeout"), "10");
    EXPECT_EQ(std::string(PQdb(c->get())), *db);
  }
  // A service file's settings apply as they are, named in the conninfo
  // or by PGSERVICE: libpq fills them in only where nothing is set, so
  // the defaults would hide them.
  std::string file = ::testing::TempDir() + *db + ".pg_service.conf";
  if (FILE* f = std::fopen(file.c_str(), "w")) {
    std::fprintf(f,
                 "[weft]\nhost=127.0.0.1\nport=%s\nuser=postgres\n"
                 "dbname=%s\nkeepalives_idle=99\n",
                 port.c_str(), db->c_str());
    std::fclose(f);
  }
  ::setenv("PGSERVICEFILE", file.c_str(), 1);
  for (bool by_env : {false, true}) {
    if (by_env) ::setenv("PGSERVICE", "weft", 1);
    pg::Pool pool(by_env ? "" : "service=weft", 1, 5000, {});
    auto c = pool.Acquire();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(option(*c, "keepalives_idle"), "99") << "by_env " << by_env;
    EXPECT_EQ(std::string(PQdb(c->get())), *db);
  }
  restore("PGSERVICE", service_env);
  restore("PGSERVICEFILE", service_file_env);
  std::remove(file.c_str());
}

// An operator's lock_timeout or statement_timeout (ALTER ROLE ... SET, or
// options in the conninfo) cancels a statement that waits too long with
// 55P03 or 57014: that is a dependency unavailable for now (503, retry),
// not an internal error, and the retry goes through once the wait is over.
TEST_F(PgStoreTest, AStatementTheServerCancelsForItsTimeoutIsUnavailable) {
  for (const char* setting : {"lock_timeout", "statement_timeout"}) {
    auto db = PgBackend::server()->CreateDatabase();
    ASSERT_TRUE(db.ok());
    std::string conninfo = PgBackend::server()->ConnInfo(*db);
    PgOptions o = opts_;
    o.conninfo = conninfo + " options='-c " + setting + "=300'";
    auto s = OpenPgStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE(AppendOp(**s, "doc", {1, 1}).ok());
    // Another session holds the document's advisory lock meanwhile.
    PGconn* other = PQconnectdb(conninfo.c_str());
    pg::Res held(
        PQexec(other, "SELECT pg_advisory_lock(hashtextextended('doc', 0))"));
    ASSERT_EQ(PQresultStatus(held.get()), PGRES_TUPLES_OK)
        << PQerrorMessage(other);
    auto waited = AppendOp(**s, "doc", {1, 2});
    ASSERT_FALSE(waited.ok()) << setting;
    EXPECT_EQ(waited.status().code(), StatusCode::kUnavailable)
        << setting << ": " << waited.status().ToString();
    pg::Res unlocked(PQexec(other, "SELECT pg_advisory_unlock_all()"));
    PQfinish(other);
    auto retried = AppendOp(**s, "doc", {1, 2});
    EXPECT_TRUE(retried.ok()) << setting << ": " << retried.status().ToString();
  }
}

// A group canceled by the server (here: it waited for a lock longer than
// lock_timeout) is tried once more on another connection before it fails:
// the lock is free by then and the append succeeds. The same retry covers
// a connection lost mid-group, whose COMMIT may have landed (op ids make
// the retry idempotent).
TEST_F(PgStoreTest, AGroupTheServerCanceledIsTriedOnceMore) {
  PgOptions o = opts_;
  o.conninfo += " options='-c lock_timeout=2000'";
  auto s = OpenPgStore(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(AppendOp(**s, "doc", {1, 1}).ok());
  // Another session holds the document's lock for 3 s: past the first
  // try's lock_timeout, within the second's.
  std::mutex mu;
  std::condition_variable cv;
  bool locked = false;
  std::thread holder([&] {
    PGconn* other = PQconnectdb(opts_.conninfo.c_str());
    pg::Res held(
        PQexec(other, "SELECT pg_advisory_lock(hashtextextended('doc', 0))"));
    {
      std::lock_guard lock(mu);
      locked = PQresultStatus(held.get()) == PGRES_TUPLES_OK;
      cv.notify_all();
    }
    pg::Res slept(PQexec(other, "SELECT pg_sleep(3)"));
    pg::Res unlocked(PQexec(other, "SELECT pg_advisory_unlock_all()"));
    PQfinish(other);
  });
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(5), [&] { return locked; });
  }
  auto r = AppendOp(**s, "doc", {1, 2});
  holder.join();
  ASSERT_TRUE(locked);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->seqs, (std::vector<std::int64_t>{2}));
}

TEST_F(PgStoreTest, AppliesMigrationsOnce) {
  Seed();
  ASSERT_TRUE(OpenPgStore(opts_).ok());
  PGconn* c = PQconnectdb(opts_.conninfo.c_str());
  PGresult* r =
      PQexec(c, "SELECT count(*), max(version) FROM schema_migrations");
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
  EXPECT_EQ(std::atoi(PQgetvalue(r, 0, 0)), PgSchemaVersion());
  EXPECT_EQ(std::atoi(PQgetvalue(r, 0, 1)), PgSchemaVersion());
  PQclear(r);
  PQfinish(c);
}

TEST_F(PgStoreTest, RefusesASchemaNewerThanTheBinary) {
  Seed();
  ASSERT_TRUE(Sql("INSERT INTO schema_migrations VALUES (999, 0)").ok());
  auto s = OpenPgStore(opts_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find("999"), std::string::npos);
}

TEST_F(PgStoreTest, DetectsAGapInTheLog) {
  Seed();
  ASSERT_TRUE(Sql("DELETE FROM ops WHERE seq = 2").ok());
  opts_.verify_on_open = true;
  auto s = OpenPgStore(opts_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find("doc"), std::string::npos);
}

TEST_F(PgStoreTest, DetectsASnapshotThatDoesNotDecode) {
  Seed();
  ASSERT_TRUE(Sql("UPDATE snapshots SET state = '\\x00ff'").ok());
  opts_.verify_on_open = true;
  opts_.validator = [](std::string_view, std::string_view state) {
    return state == "snap" ? Status::Ok() : Status::Corruption("bad");
  };
  auto s = OpenPgStore(opts_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace weft::store::testing
