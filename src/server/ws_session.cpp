#include "server/ws_session.h"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/merge_ops.h"

namespace weft::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using Frame = std::shared_ptr<const std::string>;
// Largest `ops` message made by merging queued ones.
constexpr std::size_t kMaxMergedBytes = 64 * 1024;

// The transport end of one WebSocket. Its state is touched only on the
// connection's strand (the stream's executor); Send and Close post there.
class WsTransport : public SyncTransport,
                    public std::enable_shared_from_this<WsTransport> {
 public:
  WsTransport(asio::ip::tcp::socket socket, std::size_t max_outbound,
              std::atomic<std::int64_t>& all_queued)
      : ws_(std::move(socket)),
        wake_(ws_.get_executor()),
        max_outbound_(max_outbound),
        all_queued_(all_queued) {
    wake_.expires_at(asio::steady_timer::time_point::max());
  }

  websocket::stream<asio::ip::tcp::socket>& ws() { return ws_; }

  void Send(Frame frame) override { Enqueue(std::move(frame), true); }
  void SendCatchUp(Frame frame) override { Enqueue(std::move(frame), false); }

  void Close(std::uint16_t code, std::string reason) override {
    asio::post(ws_.get_executor(),
               [self = shared_from_this(), code, reason = std::move(reason)] {
                 self->BeginClose(code, reason);
               });
  }

  // Queues a frame; `counted` frames (live traffic) close a slow consumer
  // once more than max_outbound_ of them wait.
  void Enqueue(Frame frame, bool counted) {
    asio::post(ws_.get_executor(), [self = shared_from_this(),
                                    frame = std::move(frame), counted] {
      if (self->closing_) return;
      self->Queued(static_cast<std::int64_t>(frame->size()), counted);
      self->queue_.push_back({frame, counted});
      if (self->counted_bytes_ > self->max_outbound_ &&
          self->queue_.size() - self->head_ > 1) {
        // A slow consumer: drop what is queued and close; the client
        // resumes from its last sequence number. (One frame alone may
        // exceed the limit: the queue holds at most the limit plus one.)
        self->DropQueue();
        self->BeginClose(4508, "slow consumer: outbound queue full");
        return;
      }
      self->wake_.cancel();
    });
  }

  // Writes queued frames one at a time until closing, then the close frame.
  // `self` (this transport) keeps it alive for as long as the writer runs;
  // one coroutine frame, not a wrapper and a loop.
  asio::awaitable<void> Writer(std::shared_ptr<WsTransport> /*self*/) {
    for (;;) {
      if (head_ == queue_.size()) {
        // Drained: an idle connection keeps no capacity from a past burst.
        if (queue_.capacity() > 16) {
          std::vector<std::pair<Frame, bool>>().swap(queue_);
        } else {
          queue_.clear();
        }
        head_ = 0;
        if (closing_) break;
        co_await wake_.async_wait(kTuple);
        continue;
      }
      auto [frame, counted] = std::move(queue_[head_++]);
      Queued(-static_cast<std::int64_t>(frame->size()), counted);
      // `ops` that queued behind this one while the previous write was in
      // flight go out with it as one message: under load one system call
      // carries many edits, and an idle connection adds no delay.
      if (head_ < queue_.size()) {
        std::string merged(*frame);
        bool grew = false;
        while (
            head_ < queue_.size() &&
            proto::AppendOps(merged, *queue_[head_].first, kMaxMergedBytes)) {
          auto& [next, next_counted] = queue_[head_++];
          Queued(-static_cast<std::int64_t>(next->size()), next_counted);
          next.reset();
          grew = true;
        }
        if (grew)
          frame = std::make_shared<const std::string>(std::move(merged));
      }
      if (head_ >= 64 && head_ * 2 >= queue_.size()) {
        // Under steady traffic the queue may never drain: drop the written
        // front now and then so the vector stays as long as the backlog.
        queue_.erase(queue_.begin(),
                     queue_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
      ws_.binary(true);
      auto [ec, n] = co_await ws_.async_write(asio::buffer(*frame), kTuple);
      if (ec) {
        closing_ = true;
        co_return;
      }
    }
    if (close_code_ != 0 && ws_.is_open()) {
      websocket::close_reason reason;
      reason.code = close_code_;
      reason.reason = close_reason_;
      co_await ws_.async_close(reason, kTuple);
    }
  }

  // The reader ended (peer closed or error): stop the writer too.
  void ReaderDone() {
    closing_ = true;
    DropQueue();
    wake_.cancel();
  }

  // The close code the server chose, or 0 if it chose none.
  std::uint16_t server_close_code() const { return close_code_; }

 private:
  void Queued(std::int64_t delta, bool counted) {
    queued_bytes_ = static_cast<std::size_t>(
        static_cast<std::int64_t>(queued_bytes_) + delta);
    if (counted) {
      counted_bytes_ = static_cast<std::size_t>(
          static_cast<std::int64_t>(counted_bytes_) + delta);
    }
    all_queued_.fetch_add(delta, std::memory_order_relaxed);
  }
  void DropQueue() {
    all_queued_.fetch_sub(static_cast<std::int64_t>(queued_bytes_),
                          std::memory_order_relaxed);
    queued_bytes_ = 0;
    counted_bytes_ = 0;
    queue_.clear();
    head_ = 0;
  }

  void BeginClose(std::uint16_t code, const std::string& reason) {
    if (closing_) return;
    closing_ = true;
    close_code_ = code;
    // A close reason is at most 123 bytes.
    close_reason_ = reason.substr(0, 120);
    wake_.cancel();
  }

  // Directly on the socket, not on a beast::tcp_stream: the WebSocket layer
  // has its own handshake, idle and close timeouts, and an idle connection
  // then holds no tcp_stream state or per-read timeout operation.
  websocket::stream<asio::ip::tcp::socket> ws_;
  asio::steady_timer wake_;
  // Frames to write from head_ on (frame, counted). A vector rather than a
  // deque: an idle connection's empty queue allocates nothing.
  std::vector<std::pair<Frame, bool>> queue_;
  std::size_t head_ = 0;
  std::size_t queued_bytes_ = 0;
  std::size_t counted_bytes_ = 0;  // live traffic, against max_outbound_
  std::size_t max_outbound_;
  std::atomic<std::int64_t>& all_queued_;  // every connection's queue
  bool closing_ = false;
  std::uint16_t close_code_ = 0;
  std::string close_reason_;
};

// The label of weft_sync_disconnects_total for a close the server chose
// (docs/protocol.md §4); empty for none.
std::string_view DisconnectReason(std::uint16_t server_close_code) {
  switch (server_close_code) {
    case 0:
      return {};
    case 4400:
      return "protocol_error";
    case 4401:
      return "unauthenticated";
    case 4402:
      return "token_expired";
    case 4508:
      return "slow_consumer";
    case 1001:
      return "shutdown";
    case 1009:
      return "too_large";
    default:
      return "other";
  }
}

}  // namespace

asio::awaitable<void> RunSyncSession(
    asio::ip::tcp::socket socket,
    std::unique_ptr<beast::http::request<beast::http::string_body>> request,
    SyncService& service) {
  auto transport = std::make_shared<WsTransport>(
      std::move(socket), service.max_outbound_bytes, service.outbound_bytes);
  auto& ws = transport->ws();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(30);
  timeouts.idle_timeout = service.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.read_message_max(service.max_message_bytes);
  bool offers_subprotocol =
      (*request)[beast::http::field::sec_websocket_protocol].find("weft.v1") !=
      beast::string_view::npos;
  ws.set_option(websocket::stream_base::decorator(
      [offers_subprotocol](websocket::response_type& res) {
        res.set(beast::http::field::server, "weftd");
        if (offers_subprotocol) {
          res.set(beast::http::field::sec_websocket_protocol, "weft.v1");
        }
      }));
  auto [aec] = co_await ws.async_accept(*request, kTuple);
  // The upgrade request's headers are not needed any more: free them rather
  // than keep them for the life of the connection.
  request.reset();
  if (aec) co_return;

  auto conn = std::make_shared<SyncConnection>(
      service.next_session.fetch_add(1), transport, service.hub, service.auth,
      service.access, service.clock, service.limits);
  service.registry.Add(conn);
  // Pongs (answers to the server's keep-alive pings) and pings count as
  // signs of life for the presence timeout. The callback runs only inside
  // this coroutine's reads, while `conn` is alive.
  ws.control_callback([c = conn.get()](websocket::frame_type,
                                       beast::string_view) { c->Heard(); });

  auto executor = co_await asio::this_coro::executor;
  asio::co_spawn(executor, transport->Writer(transport), asio::detached);
  // The hello deadline and token expiry are checked for all connections at
  // once (ConnectionRegistry::CheckDeadlines), not by a timer here.

  beast::flat_buffer buffer;
  boost::system::error_code read_error;
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buffer, kTuple);
    if (ec) {
      read_error = ec;
      break;
    }
    if (ws.got_text()) {
      conn->OnTextMessage();
    } else {
      auto data = buffer.cdata();
      conn->OnMessage(
          std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    buffer.consume(buffer.size());
    // An idle connection holds no read buffer between messages (one
    // allocation per message is cheap next to decoding it).
    buffer.shrink_to_fit();
  }
  std::string_view reason = DisconnectReason(transport->server_close_code());
  if (reason.empty()) {
    if (read_error == websocket::error::closed) {
      reason = "client_closed";
    } else if (read_error == websocket::error::message_too_big) {
      reason = "too_large";
    } else if (read_error == beast::error::timeout) {
      reason = "idle_timeout";
    } else {
      reason = "network";
    }
  }
  if (service.on_disconnect) service.on_disconnect(reason);
  transport->ReaderDone();
  conn->OnClosed();
  service.registry.Remove(conn.get());
}

}  // namespace weft::server
