// PostgreSQL-specific tests: reconnecting after the server drops our
// connections, migrations and the recovery checks on open.
#include "store/pg_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

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
  ASSERT_TRUE(store.Append("doc", std::vector<NewOp>{OpFor({1, 1})}).ok());
  ASSERT_TRUE(store.LastSeq("doc").ok());
  // Kill every other session of this database (ours, pooled and idle).
  ASSERT_TRUE(Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  "WHERE datname = current_database() AND pid <> "
                  "pg_backend_pid()")
                  .ok());
  // A call on a dead connection may fail with kUnavailable (never another
  // code); a retry reconnects, and the retried append is idempotent.
  std::vector<NewOp> batch{OpFor({1, 2}), OpFor({1, 3})};
  Result<AppendResult> r = Status::Unavailable("not tried");
  for (int attempt = 0; attempt < 3 && !r.ok(); ++attempt) {
    r = store.Append("doc", batch);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kUnavailable)
          << r.status().ToString();
    }
  }
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->seqs, (std::vector<std::int64_t>{2, 3}));
  auto last = store.LastSeq("doc");
  for (int attempt = 0; attempt < 3 && !last.ok(); ++attempt) {
    last = store.LastSeq("doc");
  }
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(*last, 3);
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
    auto r = writer.Append("doc", std::vector<NewOp>{OpFor({i, 1})});
    ASSERT_TRUE(r.ok()) << "append " << i << ": " << r.status().ToString();
    EXPECT_EQ(r->seqs, std::vector<std::int64_t>{++expect}) << "append " << i;
    EXPECT_EQ(r->last_seq, expect);
  }
  // A retry of the other writer's op is recognised as a duplicate.
  auto again = (*a)->Append("doc", std::vector<NewOp>{OpFor({3, 1})});
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

TEST_F(PgStoreTest, FailsWithUnavailableWhenTheServerIsUnreachable) {
  PgOptions bad;
  bad.conninfo = "host=127.0.0.1 port=1 dbname=x connect_timeout=1";
  bad.connect_timeout_ms = 200;  // a few backoff rounds
  auto s = OpenPgStore(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
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
