#pragma once

#include <cstdint>
#include <memory>

#include "common/status.h"
#include "server/json_log.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/server_config.h"
#include "server/sync_service.h"

namespace weft::server {

// The HTTP listener: accepts connections, parses requests with limits,
// dispatches them to a Router, logs one JSON line per request, and answers
// malformed requests itself (400, 413, 431) without disturbing other
// connections. The only translation unit that compiles Beast's HTTP code.
//
// Run() blocks until SIGINT/SIGTERM or Stop(). Shutdown is two-stage: stop
// accepting and close idle connections at once; requests in flight get
// `shutdown_grace` to finish; then everything stops.
class HttpServer {
 public:
  // Counts requests by method, route and status, their latency by route,
  // open connections and rejected requests in `metrics`. With `sync`,
  // WebSocket upgrades of GET /api/v1/sync run the sync protocol; on
  // shutdown those connections close with 1001.
  HttpServer(ServerConfig config, const Router& router, JsonLog& log,
             MetricsRegistry& metrics, SyncService* sync = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket. Fails with kUnavailable when the address
  // cannot be bound (in use, not permitted).
  Status Listen();
  // The bound port (useful with port 0). Valid after Listen().
  std::uint16_t port() const;
  // Serves until a signal or Stop(). Call after Listen().
  void Run();
  // Starts the graceful shutdown; safe from any thread.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::server
