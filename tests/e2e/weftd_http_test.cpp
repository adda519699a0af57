// End-to-end: a real weftd process, real TCP connections.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "http_client.h"
#include "process.h"

namespace weft::testing {
namespace {

std::string Exchange(std::uint16_t port, const std::string& bytes) {
  return RawExchange(port, bytes);
}

struct Response {
  int status = 0;
  std::string head;
  std::string body;
};

Response Parse(const std::string& raw) {
  Response r;
  auto split = raw.find("\r\n\r\n");
  if (raw.size() < 12 || split == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  r.head = raw.substr(0, split);
  r.body = raw.substr(split + 4);
  return r;
}

Response Get(std::uint16_t port, const std::string& path,
             const std::string& extra_headers = "") {
  return Parse(Exchange(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\n" +
                                  extra_headers + "Connection: close\r\n\r\n"));
}

class WeftdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("/tmp", "weftd-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    log_ = dir_ + "/weftd.log";
  }
  void TearDown() override {
    if (pid_ > 0) StopProcess(pid_, SIGKILL, std::chrono::seconds(1));
    RemoveTree(dir_);
  }

  // Starts weftd with flags (or environment) and waits for /livez.
  void Start(std::vector<std::string> extra_args = {},
             std::vector<std::string> env = {}, bool port_via_env = false) {
    auto port = FreeLoopbackPort();
    ASSERT_TRUE(port.ok());
    port_ = *port;
    std::vector<std::string> argv = {WEFTD_PATH, "--data-dir", dir_ + "/data"};
    if (port_via_env) {
      env.push_back("WEFT_PORT=" + std::to_string(port_));
    } else {
      argv.insert(argv.end(), {"--port", std::to_string(port_)});
    }
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    SpawnOptions opts;
    opts.log_path = log_;
    opts.env = std::move(env);
    auto pid = Spawn(argv, opts);
    ASSERT_TRUE(pid.ok());
    pid_ = *pid;
    for (int i = 0; i < 500; ++i) {
      if (Get(port_, "/livez").status == 200) return;
      ASSERT_FALSE(HasExited(pid_)) << "weftd exited early:\n" << ReadLog();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "weftd did not answer /livez:\n" << ReadLog();
  }

  std::string ReadLog() const { return ReadFile(log_); }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // weftd's command line on a free loopback port with `data_dir`.
  static std::vector<std::string> OnFreePort(const std::string& data_dir) {
    auto port = FreeLoopbackPort();
    EXPECT_TRUE(port.ok());
    return {WEFTD_PATH, "--port", std::to_string(port.ok() ? *port : 0),
            "--data-dir", data_dir};
  }
  static SpawnOptions LogTo(const std::string& path) {
    SpawnOptions opts;
    opts.log_path = path;
    return opts;
  }

  std::vector<boost::json::object> LogLines() const {
    std::vector<boost::json::object> lines;
    std::istringstream in(ReadLog());
    std::string line;
    while (std::getline(in, line)) {
      boost::system::error_code ec;
      auto v = boost::json::parse(line, ec);
      EXPECT_FALSE(ec) << "not a JSON line: " << line;
      if (!ec) lines.push_back(v.as_object());
    }
    return lines;
  }

  // Sends `signo` and returns weftd's wait status.
  int StopWith(int signo) {
    int status = StopProcess(pid_, signo, std::chrono::seconds(15));
    pid_ = -1;
    return status;
  }

  std::string dir_;
  std::string log_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

void ExpectError(const Response& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.head;
  EXPECT_NE(r.head.find("Content-Type: application/json"), std::string::npos)
      << r.head;
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  ASSERT_FALSE(ec) << r.body;
  const auto& error = v.as_object().at("error").as_object();
  EXPECT_EQ(error.at("code").as_string(), code);
  EXPECT_FALSE(error.at("message").as_string().empty());
  EXPECT_FALSE(error.at("request_id").as_string().empty());
}

TEST_F(WeftdTest, AnswersLivezAndVersion) {
  Start();
  auto live = Get(port_, "/livez");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(boost::json::parse(live.body).at("status").as_string(), "ok");

  auto version = Get(port_, "/version");
  ASSERT_EQ(version.status, 200);
  auto v = boost::json::parse(version.body).as_object();
  EXPECT_EQ(v.at("version").as_string(), WEFT_EXPECTED_VERSION);
  EXPECT_FALSE(v.at("commit").as_string().empty());
}

TEST_F(WeftdTest, PortComesFromEnvironment) {
  Start({}, {}, /*port_via_env=*/true);
  EXPECT_EQ(Get(port_, "/livez").status, 200);
}

TEST_F(WeftdTest, ConfigFileSitsBelowEnvironmentAndFlags) {
  auto file_port = FreeLoopbackPort();
  ASSERT_TRUE(file_port.ok());
  std::string path = dir_ + "/weftd.toml";
  std::ofstream(path) << "[server]\nport = " << *file_port
                      << "\nbind = \"127.0.0.1\"\n";
  // The file's port is overridden by the flag Start() passes.
  Start({"--config", path});
  EXPECT_EQ(Get(port_, "/livez").status, 200);
  EXPECT_EQ(Get(*file_port, "/livez").status, 0);
}

TEST_F(WeftdTest, ConfigFileAloneSetsThePort) {
  auto port = FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  std::string path = dir_ + "/weftd.toml";
  std::ofstream(path) << "[server]\nport = " << *port << "\n";
  SpawnOptions opts;
  opts.log_path = log_;
  opts.env = {"WEFT_CONFIG=" + path};
  auto pid = Spawn({WEFTD_PATH, "--data-dir", dir_ + "/data"}, opts);
  ASSERT_TRUE(pid.ok());
  pid_ = *pid;
  port_ = *port;
  int status = 0;
  for (int i = 0; i < 500 && status != 200; ++i) {
    status = Get(port_, "/livez").status;
    if (status != 200)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 200) << ReadLog();
}

TEST_F(WeftdTest, BadConfigFileFailsWithLineAndKey) {
  std::string path = dir_ + "/weftd.toml";
  std::ofstream(path) << "[server]\nprot = 1\n";
  SpawnOptions opts;
  opts.log_path = log_;
  auto rc = RunToCompletion({WEFTD_PATH, "--config", path}, opts);
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(*rc, 2);
  EXPECT_NE(ReadLog().find("weftd.toml:2: unknown key 'server.prot'"),
            std::string::npos)
      << ReadLog();
}

TEST_F(WeftdTest, UnknownPathIsJson404) {
  Start();
  ExpectError(Get(port_, "/no/such/thing"), 404, "not_found");
}

TEST_F(WeftdTest, MalformedRequestLineIs400AndServerKeepsServing) {
  Start();
  ExpectError(Parse(Exchange(port_, "GARBAGE\x01 / HTTP/1.1\r\n\r\n")), 400,
              "bad_request");
  ExpectError(Parse(Exchange(port_, "GET / HTTP/9\r\n\r\n")), 400,
              "bad_request");
  EXPECT_EQ(Get(port_, "/livez").status, 200);
}

TEST_F(WeftdTest, OversizeHeaderIs431AndServerKeepsServing) {
  Start();
  std::string big = "X-Big: " + std::string(64 * 1024, 'a') + "\r\n";
  ExpectError(Get(port_, "/livez", big), 431, "header_too_large");
  EXPECT_EQ(Get(port_, "/livez").status, 200);
}

TEST_F(WeftdTest, OversizeBodyIs413) {
  Start();
  std::string body(2 * 1024 * 1024, 'b');
  auto r = Parse(
      Exchange(port_, "POST /livez HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body));
  ExpectError(r, 413, "body_too_large");
  EXPECT_EQ(Get(port_, "/livez").status, 200);
}

// A chunk-size line with an endless extension: Beast bounds neither it
// nor trailers, and the request buffer grew with it until the deadline.
// Now the buffer is capped: 400, and the server goes on.
TEST_F(WeftdTest, AnEndlessChunkExtensionIs400) {
  Start();
  auto r = Parse(Exchange(port_,
                          "POST /livez HTTP/1.1\r\nHost: x\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n1;" +
                              std::string(512 * 1024, 'e')));
  ExpectError(r, 400, "bad_request");
  EXPECT_EQ(Get(port_, "/livez").status, 200);
}

// A Transfer-Encoding that does not end in chunked leaves the body's end
// unknown; a proxy in front may read it otherwise (request smuggling).
TEST_F(WeftdTest, ATransferCodingOtherThanChunkedIs400) {
  Start();
  // Beast read no body for these (and refuses them beside a
  // Content-Length itself).
  for (const char* te : {"gzip", "chunked, identity"}) {
    SCOPED_TRACE(te);
    auto r = Parse(Exchange(port_, std::string("POST /livez HTTP/1.1\r\n"
                                               "Host: x\r\n"
                                               "Transfer-Encoding: ") +
                                       te + "\r\n\r\nhello"));
    ExpectError(r, 400, "bad_request");
  }
  EXPECT_EQ(Get(port_, "/livez").status, 200);
}

// Sends `head`, then reads what the server answers before any body is
// sent (until a blank line or 10 s without data).
std::string AnswerToHeader(int fd, const std::string& head) {
  EXPECT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(head.size()));
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

TEST_F(WeftdTest, ExpectContinueGetsA100BeforeTheBodyIsSent) {
  Start();
  const std::string body = "{}";
  int fd = ConnectLoopback(port_, 10);
  ASSERT_GE(fd, 0);
  std::string interim = AnswerToHeader(
      fd,
      "POST /livez HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\nExpect: 100-continue\r\n"
      "Connection: close\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_EQ(::send(fd, body.data(), body.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(body.size()));
  std::string rest;
  ReadUntilClosed(fd, &rest);
  // Then the request itself is answered as usual.
  ExpectError(Parse(rest), 405, "method_not_allowed");

  // A body over the limit is refused at once, without a 100.
  fd = ConnectLoopback(port_, 10);
  ASSERT_GE(fd, 0);
  std::string refused = AnswerToHeader(
      fd,
      "POST /livez HTTP/1.1\r\nHost: x\r\n"
      "Expect: 100-continue\r\nContent-Length: 999999999\r\n\r\n");
  ::close(fd);
  EXPECT_EQ(Parse(refused).status, 413) << refused;
}

TEST_F(WeftdTest, LogsOneJsonLinePerRequestWithRequestId) {
  Start();
  auto r = Get(port_, "/version", "X-Request-Id: trace-abc.123\r\n");
  EXPECT_NE(r.head.find("X-Request-Id: trace-abc.123"), std::string::npos)
      << r.head;
  auto bad = Get(port_, "/version", "X-Request-Id: bad id\"\r\n");
  EXPECT_EQ(bad.head.find("bad id"), std::string::npos);
  Get(port_, "/missing");
  // An invitation's token would let whoever reads the log join.
  Get(port_, "/invitations/secret-token-1");
  Get(port_, "/api/v1/invitations/secret-token-2/accept");
  ASSERT_EQ(WEXITSTATUS(StopWith(SIGTERM)), 0);

  int requests = 0;
  bool saw_trace = false;
  std::set<std::string> invitation_paths;
  for (const auto& line : LogLines()) {
    if (line.at("msg").as_string() != "request") continue;
    ++requests;
    EXPECT_TRUE(line.contains("status"));
    EXPECT_TRUE(line.contains("duration_us"));
    if (line.at("request_id").as_string() == "trace-abc.123") {
      saw_trace = true;
      EXPECT_EQ(line.at("path").as_string(), "/version");
      EXPECT_EQ(line.at("status").as_int64(), 200);
    }
    const std::string path(line.at("path").as_string());
    EXPECT_EQ(path.find("secret-token"), std::string::npos) << path;
    if (path.find("/invitations/") != std::string::npos) {
      invitation_paths.insert(path);
    }
    if (line.at("path").as_string() == "/missing") {
      EXPECT_EQ(line.at("status").as_int64(), 404);
    }
  }
  // Start() polls /livez at least once, then the three requests above.
  EXPECT_GE(requests, 4);
  EXPECT_TRUE(saw_trace);
  EXPECT_EQ(invitation_paths,
            (std::set<std::string>{"/invitations/-",
                                   "/api/v1/invitations/-/accept"}));
}

TEST_F(WeftdTest, MetricsCountRequestsByRouteAndStatus) {
  Start();
  Get(port_, "/version");
  Get(port_, "/version");
  Get(port_, "/nope/123");
  auto r = Get(port_, "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.head.find("Content-Type: text/plain; version=0.0.4"),
            std::string::npos);
  EXPECT_NE(r.body.find("weft_http_requests_total{method=\"GET\",route=\"/"
                        "version\",status=\"200\"} 2\n"),
            std::string::npos)
      << r.body;
  // Unknown paths share one label value, so a scan cannot explode series.
  EXPECT_NE(r.body.find("route=\"unmatched\",status=\"404\"} 1\n"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find("/nope/123"), std::string::npos);
  EXPECT_NE(r.body.find("weft_http_request_duration_seconds_bucket{route=\"/"
                        "version\",le=\"+Inf\"} 2\n"),
            std::string::npos)
      << r.body;
  EXPECT_NE(
      r.body.find("weft_build_info{version=\"" WEFT_EXPECTED_VERSION "\""),
      std::string::npos);
  EXPECT_NE(r.body.find("process_resident_memory_bytes "), std::string::npos);
}

TEST_F(WeftdTest, StopsCleanlyOnSigint) {
  Start();
  int status = StopWith(SIGINT);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(ReadLog().find("\"msg\":\"stopped\""), std::string::npos);
}

TEST_F(WeftdTest, SigtermClosesIdleKeepAliveConnectionsAtOnce) {
  Start();
  // A keep-alive connection that stays open and idle.
  int fd = ConnectLoopback(port_, 30);
  ASSERT_GE(fd, 0);
  std::string req = "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0),
            static_cast<ssize_t>(req.size()));
  char buf[1024];
  ASSERT_GT(::recv(fd, buf, sizeof(buf), 0), 0);
  auto start = std::chrono::steady_clock::now();
  int status = StopWith(SIGTERM);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // Well under the 10 s grace period: idle connections are not waited for.
  EXPECT_LT(took, std::chrono::seconds(5));
  ::close(fd);
}

// A request in flight holds the shutdown for its grace period; a second
// SIGTERM meanwhile stops the process at once (it was ignored, leaving
// only SIGKILL when the wait hung).
TEST_F(WeftdTest, ASecondSignalStopsTheShutdownAtOnce) {
  Start();
  int fd = ConnectLoopback(port_, 30);
  ASSERT_GE(fd, 0);
  // A request whose body is still coming.
  std::string req =
      "POST /livez HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123";
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0),
            static_cast<ssize_t>(req.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  for (int i = 0;
       i < 500 && ReadLog().find("shutting down") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(ReadLog().find("shutting down"), std::string::npos);
  int status = StopWith(SIGTERM);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
      << "exited " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1)
      << " after its grace period instead";
  ::close(fd);
}

TEST_F(WeftdTest, UnusableStoreStopsTheServerWithTheReason) {
  std::filesystem::create_directories(dir_ + "/bad");
  std::ofstream(dir_ + "/bad/weft.db") << std::string(8192, 'x');
  auto rc = RunToCompletion(OnFreePort(dir_ + "/bad"), LogTo(log_));
  ASSERT_TRUE(rc.ok());
  EXPECT_NE(*rc, 0);
  EXPECT_NE(ReadLog().find("\"level\":\"error\",\"msg\":\"cannot start"),
            std::string::npos)
      << ReadLog();
  EXPECT_NE(ReadLog().find("not a database"), std::string::npos) << ReadLog();
  // The file is left as it was, for the operator to inspect.
  EXPECT_EQ(std::filesystem::file_size(dir_ + "/bad/weft.db"), 8192u);
}

// Two weftd on one SQLite store would sequence the same documents each on
// its own: the second refuses to start and names the first.
TEST_F(WeftdTest, ASecondWeftdOnTheSameStoreRefusesToStart) {
  Start();
  std::string log2 = dir_ + "/second.log";
  auto second = Spawn(OnFreePort(dir_ + "/data"), LogTo(log2));
  ASSERT_TRUE(second.ok());
  bool exited = false;
  for (int i = 0; i < 1000 && !exited; ++i) {
    exited = HasExited(*second);
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited) StopProcess(*second, SIGKILL, std::chrono::seconds(1));
  EXPECT_TRUE(exited) << "a second weftd runs on the same store";
  std::string second_log = ReadFile(log2);
  EXPECT_NE(second_log.find("pid " + std::to_string(pid_)), std::string::npos)
      << second_log;
  // The first one still serves.
  EXPECT_EQ(Get(port_, "/livez").status, 200);
  // Once it is gone (even killed), the store is free again.
  StopWith(SIGKILL);
  Start();
}

TEST_F(WeftdTest, PortInUseFailsWithClearError) {
  Start();
  std::string log2 = dir_ + "/second.log";
  auto rc = RunToCompletion(
      {WEFTD_PATH, "--port", std::to_string(port_), "--data-dir", dir_ + "/d2"},
      LogTo(log2));
  ASSERT_TRUE(rc.ok());
  EXPECT_NE(*rc, 0);
  EXPECT_NE(ReadFile(log2).find("cannot listen"), std::string::npos)
      << ReadFile(log2);
}

}  // namespace
}  // namespace weft::testing
