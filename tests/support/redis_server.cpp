#include "redis_server.h"

#include <hiredis/hiredis.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "process.h"

namespace weft::testing {
namespace {

bool Pings(std::uint16_t port) {
  timeval timeout{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeout);
  if (c == nullptr) return false;
  bool ok = false;
  if (!c->err) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
    ok = reply && reply->type == REDIS_REPLY_STATUS &&
         std::strcmp(reply->str, "PONG") == 0;
    if (reply) freeReplyObject(reply);
  }
  redisFree(c);
  return ok;
}

}  // namespace

Result<std::unique_ptr<RedisServer>> RedisServer::Start() {
  std::unique_ptr<RedisServer> server(new RedisServer());
  const char* t = std::getenv("TMPDIR");
  auto dir = MakeTempDir((t && *t) ? t : "/tmp", "weft-redis-");
  if (!dir.ok()) return dir.status();
  server->dir_ = *dir;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    SpawnOptions opts;
    opts.log_path = server->dir_ + "/redis.log";
    opts.parent_death_signal = SIGKILL;
    auto pid = Spawn({"redis-server", "--port", std::to_string(*port), "--bind",
                      "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                      server->dir_, "--daemonize", "no"},
                     opts);
    if (!pid.ok()) return pid.status();
    server->pid_ = *pid;
    server->port_ = *port;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Pings(*port)) return server;
      if (HasExited(server->pid_)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    StopProcess(server->pid_, SIGKILL, std::chrono::seconds(5));
    server->pid_ = -1;
  }
  return Status::Unavailable("redis-server did not start; see " + server->dir_ +
                             "/redis.log");
}

RedisServer::~RedisServer() {
  if (pid_ > 0) StopProcess(pid_, SIGTERM, std::chrono::seconds(5));
  if (!dir_.empty()) RemoveTree(dir_);
}

}  // namespace weft::testing
