#include "server/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cctype>
#include <chrono>
#include <csignal>
#include <exception>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common/build_info.h"
#include "server/api_error.h"
#include "server/ws_session.h"

namespace weft::server {
namespace {

// Hands memory freed by unloaded documents back to the operating system:
// glibc keeps freed heap pages in its arenas otherwise, and a server whose
// resident size never falls after a busy hour looks like a leak.
void ReleaseFreeMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(rng()));
  return buf;
}

// A client-supplied X-Request-Id is echoed only when it is short and plain,
// so it cannot inject anything into logs or headers.
bool IsPlainRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

// What the request buffer may hold beyond a full header block (one read
// of body or chunk data).
constexpr std::size_t kBodyReadSlack = 64 * 1024;
// At most this much of a refused request is read (and dropped) before the
// connection closes.
constexpr std::size_t kDrainBytes = 4 * 1024 * 1024;
// Requests handled or waiting for a handler thread at once (Impl::handlers).
constexpr int kMaxHandling = 512;

bool IsParseError(const boost::system::error_code& ec) {
  return ec.category() ==
         http::make_error_code(http::error::bad_target).category();
}

// State shared by a connection's coroutine and the shutdown path. `idle` is
// read and written only on the connection's strand.
struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool idle = true;
};

}  // namespace

struct HttpServer::Impl {
  Impl(ServerConfig c, const Router& r, JsonLog& l, MetricsRegistry& m,
       SyncService* s)
      : config(std::move(c)),
        router(r),
        log(l),
        metrics(m),
        sync(s),
        open_connections(
            m.GetGauge("weft_http_connections", "Open HTTP connections.")) {}

  ServerConfig config;
  const Router& router;
  JsonLog& log;
  MetricsRegistry& metrics;
  SyncService* sync;
  Gauge& open_connections;
  asio::io_context ioc;
  // Acceptor, signals and the grace timer live on one strand.
  asio::strand<asio::io_context::executor_type> control =
      asio::make_strand(ioc);
  tcp::acceptor acceptor{control};
  asio::signal_set signals{control, SIGINT, SIGTERM};
  asio::steady_timer grace_timer{control};
  asio::steady_timer housekeeping{control};
  asio::steady_timer presence_timer{control};
  asio::steady_timer broadcast_timer{control};
  asio::steady_timer poll_timer{control};
  asio::steady_timer store_housekeeping{control};
  asio::steady_timer drain_timer{control};
  std::atomic<bool> stopping{false};
  // Sync sessions running (they left `connections` at the upgrade).
  std::atomic<std::int64_t> sync_sessions{0};
  std::mutex mu;
  std::set<std::shared_ptr<Connection>> connections;  // guarded by mu
  // Periodic work that calls the store (which can block for as long as a
  // database takes to answer or to refuse a connection) runs here, not on
  // the control strand, so that accepting, paced broadcasts, presence
  // and signals go on meanwhile. One thread: such ticks never overlap.
  // Declared last: joined before the members its ticks use go.
  asio::thread_pool background{1};
  // Where requests are handled (routes, the store, password hashing: a
  // login takes ~0.1 s of CPU), off the I/O threads, which every
  // WebSocket session, the acceptor and the timers share: a burst of
  // logins used to hold them all. At most kMaxHandling requests are
  // handled or waiting at once; more are answered 503.
  asio::thread_pool handlers{std::max(2u, std::thread::hardware_concurrency())};
  std::atomic<int> handling{0};

  asio::awaitable<void> Accept();
  asio::awaitable<void> Serve(std::shared_ptr<Connection> conn);
  HttpResponse Handle(const http::request<http::string_body>& msg,
                      HttpRequest& request, std::string& route);
  void BeginShutdown();
  // Shutdown of the sync connections: once no append is in flight (or at
  // `deadline`), the held broadcasts and then the 1001 close frames go out.
  void DrainSync(std::chrono::steady_clock::time_point deadline);
  // Where a periodic tick runs: on the control strand, or on `background`
  // (the loop waits for the tick either way before the next interval).
  enum class TickOn { kControl, kBackground };
  void Every(asio::steady_timer& timer,
             std::chrono::steady_clock::duration interval,
             std::function<void()> tick, TickOn on = TickOn::kControl);
  void MaybeFinish();
  void Record(const HttpRequest& req, const std::string& route, int status,
              std::size_t bytes_out,
              std::chrono::steady_clock::time_point start);
};

asio::awaitable<void> HttpServer::Impl::Accept() {
  while (!stopping) {
    auto strand = asio::make_strand(ioc);
    auto [ec, socket] = co_await acceptor.async_accept(strand, kTuple);
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) co_return;
      log.Error("accept failed", {{"error", ec.message()}});
      // Out of descriptors and the like: back off instead of spinning.
      asio::steady_timer wait(control, std::chrono::milliseconds(100));
      co_await wait.async_wait(kTuple);
      continue;
    }
    // Small frames (acks, single edits) must leave at once: without
    // TCP_NODELAY, Nagle holds them until the peer's delayed ACK (up to
    // 40 ms), which showed as a 20-40 ms floor in weft-load's latencies.
    boost::system::error_code nodelay_ec;
    socket.set_option(tcp::no_delay(true), nodelay_ec);
    auto conn = std::make_shared<Connection>(std::move(socket));
    {
      std::lock_guard lock(mu);
      connections.insert(conn);
    }
    open_connections.Add(1);
    asio::co_spawn(strand, Serve(conn), [this, conn](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log.Error("connection failed", {{"error", ex.what()}});
        }
      }
      {
        std::lock_guard lock(mu);
        connections.erase(conn);
      }
      open_connections.Add(-1);
      MaybeFinish();
    });
  }
}

HttpResponse HttpServer::Impl::Handle(
    const http::request<http::string_body>& msg, HttpRequest& request,
    std::string& route) {
  request.method = std::string(msg.method_string());
  request.target = std::string(msg.target());
  auto q = request.target.find('?');
  request.path = request.target.substr(0, q);
  if (q != std::string::npos) request.query = request.target.substr(q + 1);
  for (const auto& field : msg) {
    std::string name = Lower(field.name_string());
    auto [it, inserted] =
        request.headers.emplace(name, std::string(field.value()));
    if (!inserted) {
      it->second += ", ";
      it->second += field.value();
    }
  }
  request.body = msg.body();
  std::string given = request.Header("x-request-id");
  if (IsPlainRequestId(given)) request.request_id = given;
  try {
    return router.Dispatch(request, &route);
  } catch (const std::exception& e) {
    log.Error("handler threw",
              {{"request_id", request.request_id}, {"error", e.what()}});
    return ErrorResponse(500, "internal", "internal error", request.request_id);
  }
}

namespace {

// `path` as the request log shows it: an invitation's token (the web
// page /invitations/{token}, POST /api/v1/invitations/{token}/accept)
// lets whoever reads it join the workspace, so it is replaced.
std::string LoggedPath(std::string_view path) {
  constexpr std::string_view kMarker = "/invitations/";
  auto at = path.find(kMarker);
  if (at == std::string_view::npos) return std::string(path);
  const std::size_t token = at + kMarker.size();
  std::size_t end = path.find('/', token);
  if (end == std::string_view::npos) end = path.size();
  if (end == token) return std::string(path);
  return std::string(path.substr(0, token)) + "-" +
         std::string(path.substr(end));
}

}  // namespace

void HttpServer::Impl::Record(const HttpRequest& req, const std::string& route,
                              int status, std::size_t bytes_out,
                              std::chrono::steady_clock::time_point start) {
  auto elapsed = std::chrono::steady_clock::now() - start;
  auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  log.Info("request", {{"request_id", req.request_id},
                       {"method", req.method},
                       {"path", LoggedPath(req.path)},
                       {"route", route},
                       {"status", status},
                       {"bytes_in", req.body.size()},
                       {"bytes_out", bytes_out},
                       {"duration_us", us},
                       {"remote", req.remote}});
  // Label values stay bounded: known methods, route patterns, statuses.
  static const std::set<std::string> kMethods = {
      "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  std::string method = kMethods.count(req.method) ? req.method : "other";
  metrics
      .GetCounter("weft_http_requests_total", "HTTP requests answered.",
                  {{"method", method},
                   {"route", route},
                   {"status", std::to_string(status)}})
      .Inc();
  metrics
      .GetHistogram("weft_http_request_duration_seconds",
                    "Time from a complete request to its response.",
                    {{"route", route}})
      .Observe(std::chrono::duration<double>(elapsed).count());
}

asio::awaitable<void> HttpServer::Impl::Serve(
    std::shared_ptr<Connection> conn) {
  // Capped: Beast 1.81 bounds neither a chunk-size line (its extensions)
  // nor the trailers, and counts neither against header_limit or
  // body_limit, so a chunked body of one endless extension grew this
  // buffer until the deadline. Past the cap the read fails
  // (buffer_overflow: 400). Body data passes through in pieces.
  beast::flat_buffer buffer(config.max_header_bytes + kBodyReadSlack);
  std::string remote;
  bool upgraded = false;
  bool refused = false;  // a request answered with 400/413/431
  {
    boost::system::error_code ec;
    auto ep = conn->stream.socket().remote_endpoint(ec);
    if (!ec)
      remote = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  for (;;) {
    if (stopping) break;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
    parser.body_limit(config.max_body_bytes);
    conn->idle = true;
    conn->stream.expires_after(config.idle_timeout);
    auto [ec, n] =
        co_await http::async_read_header(conn->stream, buffer, parser, kTuple);
    conn->idle = false;
    // A Transfer-Encoding whose last coding is not chunked leaves the
    // body's end unknown (RFC 9112 §6.3: 400 and close); Beast would read
    // no body, or the Content-Length, where a proxy in front may have
    // read another: a way to smuggle a second request past it.
    if (!ec && parser.get().count(http::field::transfer_encoding) > 0 &&
        !parser.chunked()) {
      ec = http::error::bad_transfer_encoding;
    }
    // A client that asks first (Debian 12's curl 7.88 for bodies over
    // 1 MB, older curl over 1 KiB) gets "100 Continue" before it sends its
    // body, instead of waiting for its own timeout (a second for curl). A
    // header already refused (a body over the limit) gets its error
    // without it.
    if (!ec && !parser.is_done() && parser.get().version() >= 11 &&
        beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, 11};
      std::tie(ec, std::ignore) =
          co_await http::async_write(conn->stream, go_on, kTuple);
    }
    if (!ec && !parser.is_done()) {
      std::tie(ec, std::ignore) =
          co_await http::async_read(conn->stream, buffer, parser, kTuple);
    }
    auto start = std::chrono::steady_clock::now();

    HttpRequest request;
    std::string route = "rejected";
    request.remote = remote;
    request.request_id = NewRequestId();
    HttpResponse response;
    bool keep_alive = false;
    bool head = false;
    unsigned version = 11;
    if (ec) {
      int status = 0;
      if (ec == http::error::header_limit) {
        status = 431;
        response = ErrorResponse(431, "header_too_large",
                                 "request header block exceeds " +
                                     std::to_string(config.max_header_bytes) +
                                     " bytes",
                                 request.request_id);
      } else if (ec == http::error::body_limit) {
        status = 413;
        response =
            ErrorResponse(413, "body_too_large",
                          "request body exceeds " +
                              std::to_string(config.max_body_bytes) + " bytes",
                          request.request_id);
      } else if (IsParseError(ec) && ec != http::error::end_of_stream &&
                 ec != http::error::partial_message) {
        status = 400;
        response = ErrorResponse(400, "bad_request",
                                 "malformed HTTP request: " + ec.message(),
                                 request.request_id);
      }
      if (status == 0) break;  // closed, reset, timed out or shut down
      refused = true;
      request.method = "-";
      request.path = "-";
    } else if (sync != nullptr && beast::websocket::is_upgrade(parser.get()) &&
               parser.get().target() == "/api/v1/sync") {
      request.method = "GET";
      request.path = "/api/v1/sync";
      const auto& msg = parser.get();
      std::string refused =
          CheckUpgradeHeaders(msg[http::field::sec_websocket_key],
                              msg[http::field::sec_websocket_version]);
      if (!refused.empty()) {
        // Answered like any other bad request; a wrong version also says
        // which one weftd speaks (RFC 6455 §4.4).
        bool bad_version = msg[http::field::sec_websocket_version] != "13";
        response = ErrorResponse(bad_version ? 426 : 400, "bad_upgrade",
                                 refused, request.request_id);
        if (bad_version)
          response.headers.emplace_back("Sec-WebSocket-Version", "13");
        route = "/api/v1/sync";
        keep_alive = false;
        version = msg.version();
      } else {
        Record(request, "/api/v1/sync", 101, 0, start);
        WsUpgrade upgrade{
            std::string(msg[http::field::sec_websocket_key]),
            OffersSubprotocol(msg[http::field::sec_websocket_protocol],
                              "weft.v1")};
        // The socket now belongs to the sync session, which runs on this
        // strand on its own: this coroutine ends so that its frame (parser,
        // buffers) and the HTTP stream are freed rather than held for the
        // life of the WebSocket.
        upgraded = true;
        sync_sessions.fetch_add(1);
        asio::co_spawn(
            conn->stream.get_executor(),
            RunSyncSession(conn->stream.release_socket(), std::move(upgrade),
                           *sync),
            [this](std::exception_ptr e) {
              if (e) {
                try {
                  std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                  log.Error("sync session failed", {{"error", ex.what()}});
                }
              }
              sync_sessions.fetch_sub(1);
              MaybeFinish();
            });
        break;
      }
    } else {
      const auto& msg = parser.get();
      keep_alive = msg.keep_alive();
      head = msg.method() == http::verb::head;
      version = msg.version();
      if (handling.fetch_add(1) >= kMaxHandling) {
        handling.fetch_sub(1);
        route = "busy";
        response =
            ErrorResponse(503, "busy", "the server is busy; retry in a second",
                          request.request_id);
        response.headers.emplace_back("Retry-After", "1");
      } else {
        // Run on the pool; this coroutine resumes on its strand after.
        // (A plain co_await post(handlers) resumes on the coroutine's own
        // executor at once: the handler ran on the I/O thread anyway.)
        response = co_await asio::co_spawn(
            handlers,
            [&]() -> asio::awaitable<HttpResponse> {
              co_return Handle(msg, request, route);
            },
            asio::use_awaitable);
        handling.fetch_sub(1);
      }
    }

    http::response<http::string_body> res{
        static_cast<http::status>(response.status), version};
    res.set(http::field::server, "weftd/" + std::string(Version()));
    if (!response.content_type.empty()) {
      res.set(http::field::content_type, response.content_type);
    }
    res.set("X-Request-Id", request.request_id);
    for (const auto& [name, value] : response.headers) res.set(name, value);
    res.keep_alive(keep_alive && !stopping);
    std::size_t bytes_out = response.body.size();
    res.body() = std::move(response.body);
    res.prepare_payload();
    if (head) res.body().clear();  // keeps the Content-Length of the GET
    Record(request, route, response.status, bytes_out, start);
    conn->stream.expires_after(config.idle_timeout);
    auto [wec, wn] = co_await http::async_write(conn->stream, res, kTuple);
    if (wec || !res.keep_alive()) break;
  }
  if (upgraded) co_return;
  boost::system::error_code ignored;
  conn->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (refused) {
    // The client may still be sending what was refused: closing with
    // unread bytes makes the kernel send a reset, which can destroy the
    // answer before the client reads it. Read and drop what comes, for a
    // second and up to kDrainBytes, first.
    conn->stream.expires_after(std::chrono::seconds(1));
    std::array<char, 16 * 1024> scratch;
    for (std::size_t drained = 0; drained < kDrainBytes;) {
      auto [rec, rn] =
          co_await conn->stream.async_read_some(asio::buffer(scratch), kTuple);
      if (rec) break;
      drained += rn;
    }
  }
  conn->stream.socket().close(ignored);
}

// Runs `tick` on the control strand every `interval` until shutdown
// (BeginShutdown cancels the timers).
void HttpServer::Impl::Every(asio::steady_timer& timer,
                             std::chrono::steady_clock::duration interval,
                             std::function<void()> tick, TickOn on) {
  asio::co_spawn(
      control,
      [this, &timer, interval, tick = std::move(tick),
       on]() -> asio::awaitable<void> {
        auto run = [this, &tick] {
          try {
            tick();
          } catch (const std::exception& e) {
            // One failed round (a store error thrown through) must not end
            // the loop for the rest of the server's life.
            log.Error("periodic task failed", {{"error", e.what()}});
          }
        };
        while (!stopping) {
          timer.expires_after(interval);
          auto [ec] = co_await timer.async_wait(kTuple);
          if (ec || stopping) co_return;
          if (on == TickOn::kControl) {
            run();
          } else {
            // The awaiting coroutine holds the I/O context's work, so a
            // tick still running keeps Run() from returning.
            co_await asio::co_spawn(
                background,
                [&run]() -> asio::awaitable<void> {
                  run();
                  co_return;
                },
                asio::use_awaitable);
          }
        }
      },
      asio::detached);
}

void HttpServer::Impl::BeginShutdown() {
  if (stopping.exchange(true)) return;
  boost::system::error_code ignored;
  // A second SIGINT/SIGTERM stops the process at once (the default
  // action comes back with the handlers): an operator whose shutdown
  // waits for a hung store is not left with SIGKILL only. Acknowledged
  // changes are durable already. Before the log line, so that a signal
  // sent once it is seen is never swallowed.
  signals.cancel(ignored);
  signals.clear(ignored);
  log.Info("shutting down", {{"grace_s", config.shutdown_grace.count()}});
  acceptor.close(ignored);
  housekeeping.cancel();
  store_housekeeping.cancel();
  presence_timer.cancel();
  broadcast_timer.cancel();
  poll_timer.cancel();
  if (sync) {
    // What clients send from now on is not acted on; the acks of what they
    // sent before, once durable, go out before the close frames (up to
    // half the grace period), so that no client has to send it again.
    sync->shutting_down.store(true);
    sync->registry.StopActingAll();
    drain_timer.expires_after(std::chrono::milliseconds(10));
    drain_timer.async_wait([this, deadline = std::chrono::steady_clock::now() +
                                             config.shutdown_grace /
                                                 2](boost::system::error_code) {
      DrainSync(deadline);
    });
  }
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu);
    open.assign(connections.begin(), connections.end());
  }
  for (auto& conn : open) {
    asio::post(conn->stream.get_executor(), [conn] {
      if (conn->idle) conn->stream.cancel();
    });
  }
  grace_timer.expires_after(config.shutdown_grace);
  grace_timer.async_wait([this](boost::system::error_code ec) {
    if (!ec) {
      log.Error("shutdown grace period over; closing remaining connections");
      ioc.stop();
    }
  });
  MaybeFinish();
}

void HttpServer::Impl::DrainSync(
    std::chrono::steady_clock::time_point deadline) {
  // A message past its connection's StopActing check may still submit:
  // none being handled first, then no append in flight.
  bool busy = sync->registry.AnyHandling() || sync->hub.AnyAppendInFlight();
  if (busy && std::chrono::steady_clock::now() < deadline) {
    drain_timer.expires_after(std::chrono::milliseconds(10));
    drain_timer.async_wait(
        [this, deadline](boost::system::error_code) { DrainSync(deadline); });
    return;
  }
  // Held-back changes go out before the close frames.
  sync->hub.FlushBroadcasts();
  sync->registry.CloseAll(1001, "server shutting down");
}

void HttpServer::Impl::MaybeFinish() {
  asio::post(control, [this] {
    if (!stopping) return;
    std::lock_guard lock(mu);
    if (connections.empty() && sync_sessions.load() == 0) {
      grace_timer.cancel();
    }
  });
}

HttpServer::HttpServer(ServerConfig config, const Router& router, JsonLog& log,
                       MetricsRegistry& metrics, SyncService* sync)
    : impl_(std::make_unique<Impl>(std::move(config), router, log, metrics,
                                   sync)) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Listen() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(impl_->config.bind, ec);
  if (ec)
    return Status::InvalidArgument("bad bind address '" + impl_->config.bind +
                                   "'");
  tcp::endpoint endpoint(address, impl_->config.port);
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) return Status::Ok();
  return Status::Unavailable("cannot listen on " + impl_->config.bind + ":" +
                             std::to_string(impl_->config.port) + ": " +
                             ec.message());
}

std::uint16_t HttpServer::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::Run() {
  Impl& s = *impl_;
  s.signals.async_wait([&s](boost::system::error_code ec, int signo) {
    if (ec) return;
    s.log.Info("signal received", {{"signal", signo}});
    s.BeginShutdown();
  });
  asio::co_spawn(s.control, s.Accept(), [&s](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        s.log.Error("accept loop failed", {{"error", ex.what()}});
      }
    }
  });
  if (s.sync != nullptr) {
    // Documents nobody is subscribed to are folded into a snapshot and
    // then unloaded, returning their memory.
    // The hub's side of the sweep stays here: it only starts snapshots
    // (the document log writes them on its own thread). What it allocates
    // (the snapshots' bytes) is freed by a later unload and must then come
    // back through malloc_trim; allocated on a thread of its own (a glibc
    // arena of its own) it did not, and unloaded documents kept their
    // memory.
    s.Every(s.housekeeping, s.sync->unload_interval, [&s] {
      s.sync->hub.SnapshotStale(std::chrono::steady_clock::now());
      if (s.sync->hub.UnloadIdle() > 0) ReleaseFreeMemory();
    });
    // These call the store: off the control strand (see `background`).
    if (s.sync->housekeeping) {
      s.Every(s.store_housekeeping, s.sync->unload_interval,
              s.sync->housekeeping, Impl::TickOn::kBackground);
    }
    if (s.sync->poll) {
      s.Every(s.poll_timer, s.sync->poll_interval, s.sync->poll,
              Impl::TickOn::kBackground);
    }
    // Changes documents held back while edits streamed in go out together.
    if (s.sync->hub.broadcast_interval().count() > 0) {
      s.Every(s.broadcast_timer, s.sync->hub.broadcast_interval(),
              [&s] { s.sync->hub.FlushBroadcasts(); });
    }
    // Presence goes out coalesced, at most once per session per interval;
    // once a second, sessions that went silent lose theirs, and sessions
    // without hello past its deadline or with an expired token are closed.
    s.Every(s.presence_timer, s.sync->presence_interval,
            [&s, last_expiry = std::chrono::steady_clock::now()]() mutable {
              s.sync->hub.FlushPresence();
              auto now = std::chrono::steady_clock::now();
              if (now - last_expiry >= std::chrono::seconds(1)) {
                s.sync->hub.ExpirePresence(now);
                s.sync->registry.CheckDeadlines(now, s.sync->hello_timeout);
                last_expiry = now;
              }
            });
  }
  s.log.Info(
      "listening",
      {{"bind", s.config.bind}, {"port", port()}, {"version", Version()}});
  unsigned threads = s.config.threads
                         ? s.config.threads
                         : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i)
    pool.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : pool) t.join();
  // A store call still running in a periodic tick (the I/O context stops
  // without it when the grace period ends) finishes before the hub shuts.
  s.background.join();
  s.handlers.join();
  // Sessions cut off by the grace period are still subscribed; their
  // sockets go with the I/O context, before the hub.
  if (s.sync) s.sync->hub.Shutdown();
  s.log.Info("stopped");
}

void HttpServer::Stop() {
  asio::post(impl_->control, [this] { impl_->BeginShutdown(); });
}

}  // namespace weft::server
