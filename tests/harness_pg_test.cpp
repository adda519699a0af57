// Proves the throwaway PostgreSQL harness: a real server, a real row.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "pg_server.h"

namespace weft::testing {
namespace {

TEST(PgHarnessTest, RoundTripsARowThroughARealServer) {
  auto server = PgServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto db = (*server)->CreateDatabase();
  ASSERT_TRUE(db.ok()) << db.status().ToString();

  PGconn* conn = PQconnectdb((*server)->ConnInfo(*db).c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* r = PQexec(conn, "CREATE TABLE t (id int PRIMARY KEY, body bytea)");
  ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn);
  PQclear(r);

  const char bytes[] = {'w', '\0', 'e', '\xff'};
  const char* values[] = {"7", bytes};
  int lengths[] = {1, 4};
  int formats[] = {0, 1};
  r = PQexecParams(conn, "INSERT INTO t VALUES ($1, $2)", 2, nullptr, values,
                   lengths, formats, 0);
  ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn);
  PQclear(r);

  r = PQexecParams(conn, "SELECT id, body FROM t", 0, nullptr, nullptr, nullptr,
                   nullptr, 1);
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(conn);
  ASSERT_EQ(PQntuples(r), 1);
  ASSERT_EQ(PQgetlength(r, 0, 1), 4);
  EXPECT_EQ(std::string(PQgetvalue(r, 0, 1), 4), std::string(bytes, 4));
  PQclear(r);

  r = PQexec(conn, "SHOW fsync");
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
  EXPECT_STREQ(PQgetvalue(r, 0, 0), "on");
  PQclear(r);
  PQfinish(conn);
}

TEST(PgHarnessTest, StopsTheServerAndFreesThePort) {
  std::string conninfo;
  {
    auto server = PgServer::Start();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    conninfo = (*server)->ConnInfo();
    EXPECT_EQ(PQping(conninfo.c_str()), PQPING_OK);
  }
  EXPECT_EQ(PQping(conninfo.c_str()), PQPING_NO_RESPONSE);
}

}  // namespace
}  // namespace weft::testing
