#include "pg_server.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "process.h"

namespace weft::testing {
namespace {

const char* kUser = "postgres";

std::string TempRoot() {
  const char* t = std::getenv("TMPDIR");
  return (t && *t) ? t : "/tmp";
}

std::string BinDir() {
  const char* b = std::getenv("WEFT_PG_BINDIR");
  return (b && *b) ? b : "/usr/lib/postgresql/15/bin";
}

std::optional<std::string> RunAs() {
  if (IsRoot()) return std::string(kUser);
  return std::nullopt;
}

// Makes (once per machine, under a file lock) an initdb'd cluster that
// servers copy: initdb costs seconds, a copy a fraction of that.
Result<std::string> TemplateCluster() {
  std::string root = TempRoot();
  std::string tmpl = root + "/weft-pg15-template-" + std::to_string(::getuid());
  std::string lock_path = tmpl + ".lock";
  int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT, 0600);
  if (lock < 0) return Status::Unavailable("cannot open " + lock_path);
  ::flock(lock, LOCK_EX);
  struct Unlock {
    int fd;
    ~Unlock() {
      ::flock(fd, LOCK_UN);
      ::close(fd);
    }
  } unlock{lock};
  if (std::filesystem::exists(tmpl + "/data/PG_VERSION")) return tmpl;

  RemoveTree(tmpl);
  std::error_code ec;
  std::filesystem::create_directories(tmpl, ec);
  if (ec) return Status::Unavailable("cannot create " + tmpl);
  WEFT_RETURN_IF_ERROR(ChownTree(tmpl, kUser));
  SpawnOptions opts;
  opts.log_path = tmpl + ".initdb.log";
  std::vector<std::string> argv;
  // initdb refuses to run as root: as root, run it as postgres via runuser.
  if (IsRoot()) argv = {"runuser", "-u", kUser, "--"};
  argv.insert(argv.end(),
              {BinDir() + "/initdb", "-D", tmpl + "/data", "-A", "trust", "-U",
               "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"});
  auto rc = RunToCompletion(argv, opts);
  if (!rc.ok()) return rc.status();
  if (*rc != 0) {
    RemoveTree(tmpl);
    return Status::Unavailable("initdb failed (exit " + std::to_string(*rc) +
                               "), see " + opts.log_path);
  }
  return tmpl;
}

}  // namespace

Result<std::unique_ptr<PgServer>> PgServer::Start() {
  auto tmpl = TemplateCluster();
  if (!tmpl.ok()) return tmpl.status();
  std::unique_ptr<PgServer> server(new PgServer());
  auto dir = MakeTempDir(TempRoot(), "weft-pg-");
  if (!dir.ok()) return dir.status();
  server->dir_ = *dir;
  // cp -a keeps the postgres ownership and 0700 mode the server insists on.
  auto rc = RunToCompletion(
      {"cp", "-a", *tmpl + "/data", server->dir_ + "/data"}, {});
  if (!rc.ok() || *rc != 0)
    return Status::Unavailable("copying the template cluster failed");
  WEFT_RETURN_IF_ERROR(ChownTree(server->dir_, kUser));

  for (int attempt = 0; attempt < 3; ++attempt) {
    auto port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    if (server->Launch(*port).ok()) return server;  // else port taken? retry
  }
  return Status::Unavailable("PostgreSQL did not start; see " + server->dir_ +
                             "/server.log");
}

Status PgServer::Launch(std::uint16_t port) {
  SpawnOptions opts;
  opts.user = RunAs();
  opts.log_path = dir_ + "/server.log";
  opts.parent_death_signal = SIGQUIT;  // immediate shutdown
  auto pid = Spawn(
      {BinDir() + "/postgres", "-D", dir_ + "/data", "-p", std::to_string(port),
       "-k", dir_, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c",
       "max_connections=200", "-c", "shared_buffers=32MB"},
      opts);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  port_ = port;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (PQping(ConnInfo().c_str()) == PQPING_OK) return Status::Ok();
    if (HasExited(pid_)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  StopProcess(pid_, SIGQUIT, std::chrono::seconds(5));
  pid_ = -1;
  return Status::Unavailable("PostgreSQL did not start on port " +
                             std::to_string(port) + "; see " + dir_ +
                             "/server.log");
}

Status PgServer::Restart() {
  if (pid_ > 0) StopProcess(pid_, SIGINT, std::chrono::seconds(10));
  pid_ = -1;
  return Launch(port_);
}

PgServer::~PgServer() {
  if (pid_ > 0) StopProcess(pid_, SIGINT, std::chrono::seconds(10));
  if (!dir_.empty()) RemoveTree(dir_);
}

std::string PgServer::ConnInfo(const std::string& db, bool unix_socket) const {
  return "host=" + (unix_socket ? dir_ : std::string("127.0.0.1")) +
         " port=" + std::to_string(port_) + " user=postgres dbname=" + db +
         " connect_timeout=5";
}

Result<std::string> PgServer::CreateDatabase(const std::string& prefix) {
  std::string name = prefix + "_" + std::to_string(++databases_);
  PGconn* conn = PQconnectdb(ConnInfo().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    return Status::Unavailable("connect: " + err);
  }
  PGresult* res = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string err = PQerrorMessage(conn);
  PQclear(res);
  PQfinish(conn);
  if (!ok) return Status::Unavailable("CREATE DATABASE: " + err);
  return name;
}

}  // namespace weft::testing
