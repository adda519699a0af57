// End-to-end: weft-load against a real weftd (SQLite), including a crash
// test: weftd is killed with SIGKILL in the middle of the load and
// restarted on the same data directory; every change weft-load saw
// acknowledged must be in the documents and the clients must converge.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "http_client.h"
#include "pg_server.h"
#include "process.h"

namespace weft::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

class WeftLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("/tmp", "weft-load-");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    auto port = FreeLoopbackPort();
    ASSERT_TRUE(port.ok());
    port_ = *port;
    ASSERT_NO_FATAL_FAILURE(StartStore());
    StartWeftd();
  }
  // SQLite in the data directory; a subclass may start another store.
  virtual void StartStore() {}
  void TearDown() override {
    if (load_pid_ > 0) StopProcess(load_pid_, SIGKILL, 1s);
    if (pid_ > 0) StopProcess(pid_, SIGKILL, 1s);
    RemoveTree(dir_);
  }
  void StartWeftd() {
    SpawnOptions opts;
    opts.log_path = dir_ + "/weftd.log";
    opts.env = {"WEFT_PASSWORD_HASH_COST=test"};
    std::vector<std::string> argv = {
        WEFTD_PATH,   "--port",           std::to_string(port_),
        "--data-dir", dir_ + "/data",     "--auth-rate-limit",
        "1000",       "--api-rate-limit", "100000"};
    argv.insert(argv.end(), store_args_.begin(), store_args_.end());
    auto pid = Spawn(argv, opts);
    ASSERT_TRUE(pid.ok());
    pid_ = *pid;
    for (int i = 0; i < 1000; ++i) {
      if (HttpCall(port_, "GET", "/livez").status == 200) return;
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << "weftd did not start";
  }
  void KillWeftd() {
    StopProcess(pid_, SIGKILL, 1s);
    pid_ = -1;
  }
  std::vector<std::string> LoadArgs(std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        WEFT_LOAD_PATH, "--url", "http://127.0.0.1:" + std::to_string(port_),
        "--quiet"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  SpawnOptions LoadOptions() {
    SpawnOptions opts;
    opts.log_path = dir_ + "/weft-load.log";
    return opts;
  }
  json::object ReadReport(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = json::parse(ss.str());
    return v.as_object();
  }
  static std::int64_t Int(const json::object& o, const char* key) {
    return o.at(key).to_number<std::int64_t>();
  }
  std::string Log() {
    std::ifstream in(dir_ + "/weft-load.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Changes made durable so far, from weftd's metrics.
  double DurableOps() {
    auto r = HttpCall(port_, "GET", "/metrics");
    std::istringstream in(r.body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("weft_sync_ops_total ", 0) == 0) {
        return std::stod(line.substr(20));
      }
    }
    return 0;
  }

  // Starts 6 users typing on 2 documents for 5 s (report: typing.json)
  // and waits until weftd has made 50 of their edits durable.
  void StartTypingAndWaitForDurableOps(std::vector<std::string> extra) {
    std::vector<std::string> args = {
        "--users", "6",          "--docs", "2",      "--rate",
        "25",      "--duration", "5",      "--json", dir_ + "/typing.json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto pid = Spawn(LoadArgs(args), LoadOptions());
    ASSERT_TRUE(pid.ok());
    load_pid_ = *pid;
    for (int i = 0; i < 1000 && DurableOps() < 50; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_GE(DurableOps(), 50);
  }
  // Waits for the weft-load started above to finish, successfully.
  void ExpectLoadSucceeds() {
    int status = StopProcess(load_pid_, 0, 120s);  // waits for it to finish
    load_pid_ = -1;
    ASSERT_TRUE(WIFEXITED(status)) << Log();
    EXPECT_EQ(WEXITSTATUS(status), 0) << Log();
  }

  std::string dir_;
  std::vector<std::string> store_args_;  // none: SQLite
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  pid_t load_pid_ = -1;
};

TEST_F(WeftLoadTest, TypingUsersAreAcknowledgedDeliveredAndConverge) {
  std::string report = dir_ + "/report.json";
  auto code = RunToCompletion(
      LoadArgs({"--users", "6", "--docs", "2", "--rate", "20", "--duration",
                "2", "--json", report, "--md", dir_ + "/report.md"}),
      LoadOptions());
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << Log();
  auto r = ReadReport(report);
  EXPECT_GT(Int(r, "acked_ops"), 0);
  EXPECT_EQ(Int(r, "acked_ops"), Int(r, "sent_ops"));
  EXPECT_EQ(Int(r, "errors"), 0) << json::serialize(r);
  EXPECT_EQ(Int(r, "lost_ops"), 0);
  EXPECT_EQ(Int(r, "docs_checked"), 2);
  EXPECT_EQ(Int(r, "docs_converged"), 2);
  // Each edit reached the two other users of its document.
  EXPECT_EQ(Int(r, "remote_deliveries"), 2 * Int(r, "acked_ops"));
  EXPECT_GT(r.at("ops_per_sec").to_number<double>(), 0);
  const auto& ack = r.at("ack_latency_ms").as_object();
  EXPECT_EQ(Int(ack, "count"), Int(r, "acked_ops"));
  EXPECT_GT(ack.at("p99").to_number<double>(), 0);
  EXPECT_GE(ack.at("max").to_number<double>(),
            ack.at("p50").to_number<double>());
  EXPECT_EQ(Int(r.at("remote_latency_ms").as_object(), "count"),
            Int(r, "remote_deliveries"));
  std::ifstream md(dir_ + "/report.md");
  std::string first_line;
  std::getline(md, first_line);
  EXPECT_EQ(first_line, "# weft-load report");
}

TEST_F(WeftLoadTest, IdleUsersEachHoldTheirOwnDocumentThenWeftdStopsCleanly) {
  std::string report = dir_ + "/idle.json";
  auto code = RunToCompletion(LoadArgs({"--idle", "--users", "600",
                                        "--duration", "0.5", "--json", report}),
                              LoadOptions());
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << Log();
  auto r = ReadReport(report);
  EXPECT_EQ(Int(r, "connected"), 600);
  EXPECT_EQ(Int(r, "docs"), 600);
  EXPECT_EQ(Int(r, "errors"), 0) << json::serialize(r);
  EXPECT_GT(r.at("server_rss_mib_after").to_number<double>(),
            r.at("server_rss_mib_before").to_number<double>());
  // Hundreds of sessions that ended together must not keep weftd from
  // stopping: a per-connection timer that missed its cancellation used to
  // re-arm itself forever (about every other run with 600 connections).
  int status = StopProcess(pid_, SIGTERM, 30s);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "weftd did not stop on SIGTERM";
}

TEST_F(WeftLoadTest, AcknowledgedEditsSurviveSigkillAndClientsConverge) {
  std::string report = dir_ + "/typing.json";
  std::string acked = dir_ + "/acked.json";
  ASSERT_NO_FATAL_FAILURE(StartTypingAndWaitForDurableOps({"--acked", acked}));
  // Kill weftd mid-load.
  KillWeftd();
  std::this_thread::sleep_for(300ms);
  StartWeftd();
  ASSERT_NO_FATAL_FAILURE(ExpectLoadSucceeds());
  auto r = ReadReport(report);
  EXPECT_GT(Int(r, "reconnects"), 0);  // the kill was felt
  EXPECT_GT(Int(r, "acked_ops"), 0);
  EXPECT_EQ(Int(r, "errors"), 0) << json::serialize(r);
  EXPECT_EQ(Int(r, "lost_ops"), 0);
  EXPECT_EQ(Int(r, "unacked_ops"), 0);
  EXPECT_EQ(Int(r, "docs_converged"), 2);

  // And once more from cold: kill again, restart, and check the list of
  // acknowledged changes weft-load wrote against the server's documents.
  KillWeftd();
  StartWeftd();
  std::string verify = dir_ + "/verify.json";
  auto code = RunToCompletion(LoadArgs({"--verify", acked, "--json", verify}),
                              LoadOptions());
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << Log();
  auto v = ReadReport(verify);
  EXPECT_EQ(Int(v, "acked_ops"), Int(r, "acked_ops"));
  EXPECT_EQ(Int(v, "lost_ops"), 0);
  EXPECT_EQ(Int(v, "errors"), 0) << json::serialize(v);
  EXPECT_EQ(Int(v, "docs_converged"), 2);
}

// A document the server refuses to serve (here: one that does not exist)
// ends the user with an error at once: it retried for ever, and the run
// (and --verify) never finished.
TEST_F(WeftLoadTest, ARefusedSubscribeEndsTheRunWithAnError) {
  std::string acked = dir_ + "/acked.json";
  ASSERT_NO_FATAL_FAILURE(StartTypingAndWaitForDurableOps({"--acked", acked}));
  ASSERT_NO_FATAL_FAILURE(ExpectLoadSucceeds());
  auto file = ReadReport(acked);
  file["docs"].as_object()["no-such-document"] = json::array{json::array{7, 1}};
  std::string edited = dir_ + "/edited.json";
  std::ofstream(edited) << json::serialize(file);
  std::string verify = dir_ + "/verify.json";
  // A day to reconnect: only the refusal itself can end this run.
  auto code =
      RunToCompletion(LoadArgs({"--verify", edited, "--reconnect-timeout",
                                "86400", "--json", verify}),
                      LoadOptions());
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 3) << Log();
  auto v = ReadReport(verify);
  EXPECT_GE(Int(v, "errors"), 1);
  EXPECT_NE(json::serialize(v).find("refused"), std::string::npos)
      << json::serialize(v);
  EXPECT_EQ(Int(v, "lost_ops"), 0) << "the real documents are intact";
}

// weftd on PostgreSQL, which restarts in the middle of the load. A group
// of appends on a broken connection is tried once more on a new one (the
// pool reconnects for up to 10 s), so a short restart usually goes
// unnoticed by the users; if the retry fails too, the outcome is unknown,
// weftd answers `unsubscribed(unavailable)` and reads the documents again
// from its log (protocol.md), and the users subscribe again and resend.
// Either way nothing is lost.
class WeftLoadPgTest : public WeftLoadTest {
 protected:
  void StartStore() override {
    auto pg = PgServer::Start();
    ASSERT_TRUE(pg.ok()) << pg.status().ToString();
    pg_ = std::move(*pg);
    auto db = pg_->CreateDatabase("weft_load");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    store_args_ = {"--store", "postgres", "--database-url", pg_->ConnInfo(*db)};
  }
  void TearDown() override {
    WeftLoadTest::TearDown();
    pg_.reset();
  }
  std::unique_ptr<PgServer> pg_;
};

TEST_F(WeftLoadPgTest, UsersLoseNothingWhenTheStoreRestarts) {
  std::string report = dir_ + "/typing.json";
  ASSERT_NO_FATAL_FAILURE(StartTypingAndWaitForDurableOps({}));
  ASSERT_TRUE(pg_->Restart().ok());
  ASSERT_NO_FATAL_FAILURE(ExpectLoadSucceeds());
  auto r = ReadReport(report);
  std::printf("resubscribes after the restart: %lld\n",
              static_cast<long long>(Int(r, "resubscribes")));
  EXPECT_EQ(Int(r, "reconnects"), 0);  // on the same connections
  EXPECT_GT(Int(r, "acked_ops"), 0);
  EXPECT_EQ(Int(r, "acked_ops"), Int(r, "sent_ops"));
  EXPECT_EQ(Int(r, "unacked_ops"), 0);
  EXPECT_EQ(Int(r, "lost_ops"), 0);
  EXPECT_EQ(Int(r, "errors"), 0) << json::serialize(r);
  EXPECT_EQ(Int(r, "docs_converged"), 2);
}

}  // namespace
}  // namespace weft::testing
