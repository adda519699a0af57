#include "server/ws_session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <algorithm>
#include <functional>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/core/detail/sha1.hpp>
#include <chrono>
#include <deque>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/merge_ops.h"
#include "proto/ws_frame.h"

namespace weft::server {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using proto::WsOpcode;
using SteadyTime = std::chrono::steady_clock::time_point;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using Frame = std::shared_ptr<const std::string>;
// Largest `ops` message made by merging queued ones.
constexpr std::size_t kMaxMergedBytes = 64 * 1024;
// One write (one sendmsg, mostly) carries at most this much.
constexpr std::size_t kMaxFramesPerWrite = 64;
constexpr std::size_t kMaxBytesPerWrite = 256 * 1024;
// While more catch-up than the outbound limit waits for a connection, the
// reader looks whether it drained (ReadFrames): after this long, doubling
// up to kCatchUpPollMax while nothing moves.
constexpr std::chrono::milliseconds kCatchUpPoll{5};
constexpr std::chrono::milliseconds kCatchUpPollMax{200};
// Bytes read that count as a sign of life even within an unfinished frame
// (whole frames always do).
constexpr std::size_t kProgressIsLife = 16 * 1024;

// Bytes of this connection the peer's TCP has acknowledged (Linux
// tcpi_bytes_acked; glibc's struct tcp_info stops before it). 0 when the
// kernel does not say.
std::uint64_t BytesAcked(tcp::socket& socket) {
  struct {
    tcp_info base;
    std::uint64_t pacing_rate, max_pacing_rate, bytes_acked;
  } info{};
  socklen_t len = sizeof(info);
  if (::getsockopt(socket.native_handle(), IPPROTO_TCP, TCP_INFO, &info,
                   &len) != 0 ||
      len < sizeof(info)) {
    return 0;
  }
  return info.bytes_acked;
}
// What a queued frame costs beyond its payload (its queue entry, shared
// string and allocations), counted against the limits with the payload:
// otherwise a client that sends tiny messages answered by tiny frames
// (pings) and never reads could queue hundreds of MiB under an 8 MiB
// limit.
constexpr std::int64_t kFrameCost = 128;
// A close the server starts ends within this long. A slow consumer's
// close (4508) waits behind a write the stalled client holds up: it gets
// up to the idle timeout to go out, so that a client that reads again
// within that still learns why it was closed instead of finding the
// connection ended; then this long for the client's answer.
constexpr std::chrono::seconds kCloseTimeout{5};

// The buffer every read of this thread goes into. Messages are handled
// before the next read, so one per thread serves every connection, and an
// idle connection holds no read buffer at all.
std::array<char, 64 * 1024>& ReadBuffer() {
  static thread_local std::array<char, 64 * 1024> buffer;
  return buffer;
}

const Frame& EmptyPayload() {
  static const Frame empty = std::make_shared<const std::string>();
  return empty;
}

// Empties `v`, freeing its storage if it grew beyond `keep` elements.
template <typename T>
void ShrinkOrClear(std::vector<T>& v, std::size_t keep) {
  if (v.capacity() > keep) {
    std::vector<T>().swap(v);
  } else {
    v.clear();
  }
}

// The label of weft_sync_disconnects_total for a close the server chose
// (docs/protocol.md §4).
std::string_view ServerCloseReason(std::uint16_t code) {
  switch (code) {
    case 4400:
    case 1002:
    case 1007:
      return "protocol_error";
    case 4401:
      return "unauthenticated";
    case 4402:
      return "token_expired";
    case 4508:
      return "slow_consumer";
    case 4503:
      return "unavailable";
    case 1001:
      return "shutdown";
    case 1009:
      return "too_large";
    default:
      return "other";
  }
}

// The transport end of one WebSocket. Its state is touched only on the
// connection's strand (the socket's executor); Send, Close and CheckIdle
// post there. Nothing is pending while the connection is idle except the
// reader's readiness wait: the writer runs only while there is something
// to write, and timers only while closing.
class WsTransport : public SyncTransport,
                    public std::enable_shared_from_this<WsTransport> {
 public:
  WsTransport(tcp::socket socket, std::chrono::seconds idle_timeout,
              std::size_t max_outbound, std::atomic<std::int64_t>& all_queued)
      : socket_(std::move(socket)),
        close_timer_(socket_.get_executor()),
        idle_timeout_(idle_timeout),
        max_outbound_(max_outbound),
        all_queued_(all_queued),
        last_rx_(std::chrono::steady_clock::now().time_since_epoch().count()) {}

  tcp::socket& socket() { return socket_; }
  // Where the pending read of this connection puts its first bytes.
  std::array<char, 64>& read_slot() { return read_slot_; }

  void Send(Frame frame) override {
    Enqueue(std::move(frame), WsOpcode::kBinary, true);
  }
  // Catch-up is not counted against the limit (a far-behind client must
  // be able to resume, however large the document); instead the reader
  // handles no further message while more than the limit of it waits
  // (CatchUpBacklog), so a connection holds at most one subscription's
  // catch-up beyond the limit.
  void SendCatchUp(Frame frame) override {
    catch_up_posted_.fetch_add(Cost(*frame), std::memory_order_relaxed);
    asio::post(socket_.get_executor(), [self = shared_from_this(),
                                        frame = std::move(frame)]() mutable {
      self->catch_up_posted_.fetch_sub(Cost(*frame), std::memory_order_relaxed);
      self->Push(std::move(frame), WsOpcode::kBinary, false, true);
    });
  }
  // On the strand: catch-up bytes queued or on their way to the queue.
  std::int64_t CatchUpBacklog() const {
    return static_cast<std::int64_t>(catch_up_bytes_) +
           catch_up_posted_.load(std::memory_order_relaxed);
  }
  std::size_t max_outbound() const { return max_outbound_; }

  // Called (posted to the strand) once when the server begins to close
  // the connection, but not for shutdown (1001: acks still go out).
  void OnServerClose(std::function<void()> f) {
    on_server_close_ = std::move(f);
  }

  void Close(std::uint16_t code, std::string reason) override {
    asio::post(socket_.get_executor(),
               [self = shared_from_this(), code, reason = std::move(reason)] {
                 self->BeginClose(code, reason, /*by_server=*/true);
               });
  }

  // A keep-alive ping after a quarter of the idle timeout without a byte
  // from the client (15 s by default: half the hub's 30 s presence
  // timeout, so a client that answers keeps its presence); the socket
  // closed after all of it.
  // Decided here first, from the last receive time, so that the sweep posts
  // nothing to the strands of connections that were heard from recently
  // (nearly all of them, under load).
  void CheckIdle(SteadyTime now) override {
    if (now - LastRx() < idle_timeout_ / 4) return;
    asio::post(socket_.get_executor(), [self = shared_from_this(), now] {
      if (!self->socket_.is_open() || self->closing_) return;
      auto silent = now - self->LastRx();
      if (silent >= self->idle_timeout_) {
        self->idle_timed_out_ = true;
        self->CloseSocket();
      } else if (silent >= self->idle_timeout_ / 4 &&
                 !self->ping_outstanding_) {
        self->ping_outstanding_ = true;
        self->Push(EmptyPayload(), WsOpcode::kPing, false);
      }
    });
  }

  // The reader's side; called on the strand.
  void Received() {
    last_rx_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                   std::memory_order_relaxed);
    ping_outstanding_ = false;
  }
  // At most one pong waits (for the latest ping, RFC 6455 §5.5.3), so a
  // client flooding pings without reading cannot grow the queue.
  // The queued pong is found by its index (pong_at_), not by a search: a
  // client that stops reading and floods pings behind tens of thousands
  // of queued frames would otherwise cost a walk of the queue per ping.
  void Pong(std::string_view payload) {
    auto frame = std::make_shared<const std::string>(payload);
    if (pong_queued_ && pong_at_ >= head_ && pong_at_ < queue_.size() &&
        queue_[pong_at_].opcode == WsOpcode::kPong) {
      Queued(static_cast<std::int64_t>(frame->size()) -
                 static_cast<std::int64_t>(queue_[pong_at_].payload->size()),
             false);
      queue_[pong_at_].payload = std::move(frame);
      return;
    }
    pong_queued_ = true;
    pong_at_ = queue_.size();  // where Push puts it (StartWrite may take it)
    Push(std::move(frame), WsOpcode::kPong, false);
  }
  // The client's close frame: answered with the same code, then the socket
  // closes (the server closes TCP first, RFC 6455 §7.1.1).
  void PeerClosed(std::uint16_t code) {
    peer_closed_ = true;
    if (close_sent_) {
      if (!writing_) CloseSocket();
      return;
    }
    DropQueue();
    BeginClose(code == 1005 ? 1000 : code, "", /*by_server=*/false);
  }
  bool peer_closed() const { return peer_closed_; }
  // The server or the client has begun to close: messages are not acted on.
  bool closing() const { return closing_; }
  // A frame violated the protocol (1002) or a message was too big (1009).
  // The client's later frames cannot be read any more, so its answer to
  // the close frame cannot be either: the socket closes once it is sent.
  void ReadFailed(std::uint16_t code) {
    unreadable_ = true;
    if (close_sent_ && !writing_) {  // nothing left to wait for
      CloseSocket();
      return;
    }
    BeginClose(code, code == 1009 ? "message too big" : "protocol error",
               /*by_server=*/true);
  }
  // The reader ended (peer gone, error, or socket closed here).
  void ReaderDone() {
    closing_ = true;
    DropQueue();
    CloseSocket();
  }

  // The weft_sync_disconnects_total label for how this connection ended.
  std::string_view DisconnectReason() const {
    if (by_server_) return ServerCloseReason(close_code_);
    if (peer_closed_) return "client_closed";
    if (idle_timed_out_) return "idle_timeout";
    return "network";
  }

 private:
  struct Out {
    Frame payload;
    WsOpcode opcode;
    bool counted;   // live traffic, against max_outbound_
    bool catch_up;  // a subscription's catch-up (CatchUpBacklog)
  };
  struct Held {
    Frame payload;
    std::array<std::uint8_t, proto::kWsMaxServerHeader> header;
    std::uint8_t header_len;
  };

  void Enqueue(Frame frame, WsOpcode opcode, bool counted) {
    asio::post(
        socket_.get_executor(),
        [self = shared_from_this(), frame = std::move(frame), opcode,
         counted]() mutable { self->Push(std::move(frame), opcode, counted); });
  }

  // On the strand: queues a frame and starts writing if idle.
  void Push(Frame frame, WsOpcode opcode, bool counted, bool catch_up = false) {
    if (closing_) return;
    // Only live traffic counts (catch-up is bounded by the reader, pongs
    // by coalescing, pings by the sweep). What waits ahead of this frame
    // decides: one frame may exceed the limit on its own, so the queue
    // holds at most the limit plus one frame. (Counting the frame too
    // closed a healthy client that got one large `ops` frame while a
    // small ack waited.)
    bool over = counted_bytes_ > max_outbound_;
    Queued(Cost(*frame), counted, catch_up);
    queue_.push_back({std::move(frame), opcode, counted, catch_up});
    if (over) {
      // A slow consumer: drop what is queued and close; the client
      // resumes from its last sequence number.
      DropQueue();
      BeginClose(4508, "slow consumer: outbound queue full", true);
      return;
    }
    StartWrite();
  }

  void Hold(Frame payload, WsOpcode opcode) {
    Held h{std::move(payload), {}, 0};
    h.header_len = static_cast<std::uint8_t>(
        proto::WriteWsFrameHeader(opcode, h.payload->size(), h.header.data()));
    held_.push_back(std::move(h));
  }

  // Writes what is queued (many frames in one gather write), then the close
  // frame once closing and drained. One write in flight at a time.
  void StartWrite() {
    if (writing_ || close_sent_ || !socket_.is_open()) return;
    std::size_t bytes = 0;
    while (head_ < queue_.size() && held_.size() < kMaxFramesPerWrite &&
           bytes < kMaxBytesPerWrite) {
      Out out = std::move(queue_[head_++]);
      Queued(-Cost(*out.payload), out.counted, out.catch_up);
      if (out.opcode == WsOpcode::kPong) pong_queued_ = false;
      // `ops` queued behind one another go out as one message: the client
      // handles one message instead of many (protocol.md: any split).
      // (Copied only once the next one is known to merge.)
      if (out.opcode == WsOpcode::kBinary && head_ < queue_.size() &&
          queue_[head_].opcode == WsOpcode::kBinary &&
          proto::CanAppendOps(*out.payload, *queue_[head_].payload,
                              kMaxMergedBytes)) {
        std::string merged(*out.payload);
        while (
            head_ < queue_.size() &&
            queue_[head_].opcode == WsOpcode::kBinary &&
            proto::AppendOps(merged, *queue_[head_].payload, kMaxMergedBytes)) {
          Out& next = queue_[head_++];
          Queued(-Cost(*next.payload), next.counted, next.catch_up);
          next.payload.reset();
        }
        out.payload = std::make_shared<const std::string>(std::move(merged));
      }
      bytes += out.payload->size();
      Hold(std::move(out.payload), out.opcode);
    }
    if (head_ == queue_.size()) {
      // Drained: an idle connection keeps no capacity from a past burst
      // (a few slots stay, so that steady traffic does not allocate).
      ShrinkOrClear(queue_, 4);
      head_ = 0;
      if (closing_ && close_code_ != 0) {
        Hold(std::make_shared<const std::string>(
                 proto::WsClosePayload(close_code_, close_reason_)),
             WsOpcode::kClose);
        close_sent_ = true;
      }
    } else if (head_ >= 64 && head_ * 2 >= queue_.size()) {
      // Under steady traffic the queue may never drain: drop the written
      // front now and then so the vector stays as long as the backlog.
      queue_.erase(queue_.begin(),
                   queue_.begin() + static_cast<std::ptrdiff_t>(head_));
      if (pong_queued_) pong_at_ -= head_;  // it is at or after head_
      head_ = 0;
    }
    if (held_.empty()) return;
    buffers_.clear();
    buffers_.reserve(held_.size() * 2);
    for (const Held& h : held_) {
      buffers_.emplace_back(h.header.data(), h.header_len);
      if (!h.payload->empty()) buffers_.emplace_back(asio::buffer(*h.payload));
    }
    writing_ = true;
    asio::async_write(
        socket_, buffers_,
        [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
          self->WriteDone(ec);
        });
  }

  void WriteDone(boost::system::error_code ec) {
    writing_ = false;
    ShrinkOrClear(held_, 4);
    ShrinkOrClear(buffers_, 8);
    if (ec) {
      closing_ = true;
      DropQueue();
      CloseSocket();
      return;
    }
    if (close_sent_) {
      // Then the client's close frame ends it, or the timeout.
      if (peer_closed_ || unreadable_) {
        CloseSocket();
      } else if (SlowConsumerClose() && socket_.is_open()) {
        ArmCloseTimer(kCloseTimeout);  // the rest keep BeginClose's deadline
      }
      return;
    }
    StartWrite();
  }

  void BeginClose(std::uint16_t code, const std::string& reason,
                  bool by_server) {
    if (closing_) {
      // Shutdown does not wait the idle timeout for a slow consumer's
      // close: its grace period is shorter. (Only ever sooner: a close
      // due within kCloseTimeout keeps its deadline.)
      if (code == 1001 && SlowConsumerClose() && socket_.is_open() &&
          close_timer_.expiry() >
              asio::steady_timer::clock_type::now() + kCloseTimeout) {
        ArmCloseTimer(kCloseTimeout);
      }
      return;
    }
    closing_ = true;
    by_server_ = by_server;
    close_code_ = code;
    close_reason_ = reason;  // WsClosePayload cuts it to fit
    if (by_server && code != 1001 && on_server_close_) {
      asio::post(socket_.get_executor(), std::move(on_server_close_));
    }
    // Whatever happens next (a client that never reads again never lets
    // the queue or the close frame out), the socket closes in time.
    ArmCloseTimer(SlowConsumerClose() ? std::max(kCloseTimeout, idle_timeout_)
                                      : kCloseTimeout);
    StartWrite();
  }

  // A 4508 of ours: the close that waits longer.
  bool SlowConsumerClose() const { return by_server_ && close_code_ == 4508; }

  void ArmCloseTimer(std::chrono::seconds after) {
    close_timer_.expires_after(after);  // cancels an earlier wait
    close_timer_.async_wait(
        [self = shared_from_this()](boost::system::error_code tec) {
          if (!tec) self->CloseSocket();
        });
  }

  void CloseSocket() {
    close_timer_.cancel();
    if (!socket_.is_open()) return;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  static std::int64_t Cost(const std::string& payload) {
    return static_cast<std::int64_t>(payload.size()) + kFrameCost;
  }
  void Queued(std::int64_t delta, bool counted, bool catch_up = false) {
    queued_bytes_ = static_cast<std::size_t>(
        static_cast<std::int64_t>(queued_bytes_) + delta);
    if (counted) {
      counted_bytes_ = static_cast<std::size_t>(
          static_cast<std::int64_t>(counted_bytes_) + delta);
    }
    if (catch_up) {
      catch_up_bytes_ = static_cast<std::size_t>(
          static_cast<std::int64_t>(catch_up_bytes_) + delta);
    }
    all_queued_.fetch_add(delta, std::memory_order_relaxed);
  }
  void DropQueue() {
    all_queued_.fetch_sub(static_cast<std::int64_t>(queued_bytes_),
                          std::memory_order_relaxed);
    queued_bytes_ = 0;
    counted_bytes_ = 0;
    catch_up_bytes_ = 0;
    std::vector<Out>().swap(queue_);
    head_ = 0;
    pong_queued_ = false;
  }

  tcp::socket socket_;
  std::array<char, 64> read_slot_;
  asio::steady_timer close_timer_;
  std::chrono::seconds idle_timeout_;
  // Frames to write from head_ on. A vector rather than a deque: an idle
  // connection's empty queue allocates nothing.
  std::vector<Out> queue_;
  std::size_t head_ = 0;
  // The frames of the write in flight, and its buffers.
  std::vector<Held> held_;
  std::vector<asio::const_buffer> buffers_;
  std::size_t queued_bytes_ = 0;
  std::size_t counted_bytes_ = 0;
  std::size_t catch_up_bytes_ = 0;
  // Catch-up posted to the strand and not queued yet (any thread).
  std::atomic<std::int64_t> catch_up_posted_{0};
  std::size_t max_outbound_;
  std::atomic<std::int64_t>& all_queued_;  // every connection's queue
  SteadyTime LastRx() const {
    return SteadyTime(
        SteadyTime::duration(last_rx_.load(std::memory_order_relaxed)));
  }

  // Written on the strand, read by CheckIdle from the sweep's thread.
  std::atomic<SteadyTime::rep> last_rx_;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool peer_closed_ = false;
  bool by_server_ = false;
  bool idle_timed_out_ = false;
  std::function<void()> on_server_close_;
  bool unreadable_ = false;  // the reader gave up (ReadFailed)
  bool ping_outstanding_ = false;
  bool pong_queued_ = false;  // a pong waits in queue_, at pong_at_
  std::size_t pong_at_ = 0;
  std::uint16_t close_code_ = 0;
  std::string close_reason_;
};

// Reads frames until the socket closes, feeding `conn`. A pending read
// holds only the connection's 64-byte slot; bursts are read into the
// thread's buffer.
asio::awaitable<void> ReadFrames(WsTransport& transport, SyncConnection& conn,
                                 std::size_t max_message_bytes) {
  tcp::socket& socket = transport.socket();
  proto::WsFrameReader reader(max_message_bytes);
  bool failed = false;
  // Messages read while more catch-up than the outbound limit waits for
  // the client: handled in order once it drained, and nothing more is
  // read meanwhile. So three large documents subscribed at once are
  // caught up one after the other, and a client cannot make the server
  // queue catch-up after catch-up without reading.
  struct Waiting {
    std::string payload;
    bool text = false;  // a text frame: a protocol error, in its turn
  };
  std::deque<Waiting> waiting;
  auto backlogged = [&] {
    return transport.CatchUpBacklog() >
           static_cast<std::int64_t>(transport.max_outbound());
  };
  // A whole frame in this read: a sign of life (see `feed`).
  bool whole_frame = false;
  auto on_event = [&](const proto::WsEvent& e) {
    whole_frame = true;
    if (transport.peer_closed()) return;  // nothing counts after close
    switch (e.opcode) {
      case WsOpcode::kBinary:
      case WsOpcode::kText: {
        // Once the server closes (an expired token, a protocol error,
        // shutdown), what the client still sends is read and dropped.
        if (transport.closing()) break;
        bool text = e.opcode == WsOpcode::kText;
        if (!waiting.empty() || backlogged()) {
          // Answered in the order read, a text frame's error included.
          waiting.push_back(
              Waiting{text ? std::string() : std::string(e.payload), text});
        } else if (text) {
          conn.OnTextMessage();
        } else {
          conn.OnMessage(e.payload);
        }
        break;
      }
      case WsOpcode::kPing:
        conn.Heard();
        transport.Pong(e.payload);
        break;
      case WsOpcode::kPong:
        conn.Heard();
        break;
      case WsOpcode::kClose:
        transport.PeerClosed(e.close_code);
        break;
      case WsOpcode::kContinuation:
        break;
    }
  };
  // Signs of life, once per read: a whole frame, or kProgressIsLife bytes
  // of an unfinished one (a browser cannot answer a ping in the middle of
  // a large message on a slow uplink; a byte now and then does not count,
  // or a client dribbling a fragment would never time out).
  std::size_t progress = 0;
  auto feed = [&](char* data, std::size_t n) {
    if (!failed) {
      if (std::uint16_t code = reader.Feed(data, n, on_event); code != 0) {
        // Later bytes are read and dropped until the client answers the
        // close frame or the close timeout ends the connection.
        failed = true;
        transport.ReadFailed(code);
      }
    }
    progress += n;
    if (whole_frame || progress >= kProgressIsLife) {
      whole_frame = false;
      progress = 0;
      transport.Received();
      conn.Heard();  // for its presence too
    }
  };
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  if (ec) co_return;
  auto& first = transport.read_slot();
  asio::steady_timer drained(socket.get_executor());
  for (;;) {
    std::int64_t before = transport.CatchUpBacklog();
    std::uint64_t acked = waiting.empty() ? 0 : BytesAcked(socket);
    auto poll = kCatchUpPoll;
    while (!waiting.empty()) {
      if (transport.closing() || !socket.is_open()) {
        waiting.clear();
        break;
      }
      if (backlogged()) {
        drained.expires_after(poll);
        co_await drained.async_wait(kTuple);
        // A client that takes its catch-up is alive (for the idle timeout
        // and its presence), though nothing of it is read meanwhile: the
        // backlog shrank, or its TCP acknowledged more of a large write.
        std::int64_t now = transport.CatchUpBacklog();
        std::uint64_t now_acked = BytesAcked(socket);
        if (now < before || now_acked > acked) {
          transport.Received();
          conn.Heard();
          poll = kCatchUpPoll;
        } else {
          poll = std::min(poll * 2, kCatchUpPollMax);
        }
        before = now;
        acked = now_acked;
        continue;
      }
      Waiting m = std::move(waiting.front());
      waiting.pop_front();
      if (m.text) {
        conn.OnTextMessage();
      } else {
        conn.OnMessage(m.payload);
      }
    }
    if (!socket.is_open()) co_return;
    // A real read, not a readiness wait: Asio tries it at once if data came
    // since the last one, so no wake-up is lost between our draining reads
    // and this wait (epoll is edge-triggered). Into the connection's small
    // slot; whatever else is there then goes into this thread's buffer.
    auto [rec, n] =
        co_await socket.async_read_some(asio::buffer(first), kTuple);
    if (rec) co_return;
    feed(first.data(), n);
    if (n < first.size() || !waiting.empty()) continue;
    // At most a few buffers per wake-up: then the next read goes through
    // the reactor again, so one fast sender cannot hold its thread.
    for (int reads = 0; reads < 4; ++reads) {
      auto& buffer = ReadBuffer();
      std::size_t m = socket.read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        break;
      }
      if (ec) co_return;  // end of stream, reset, or closed here
      feed(buffer.data(), m);
      if (m < buffer.size() || !waiting.empty()) break;
    }
  }
}

}  // namespace

std::string CheckUpgradeHeaders(std::string_view key,
                                std::string_view version) {
  if (version != "13") return "Sec-WebSocket-Version must be 13";
  // The key is 16 random bytes in base64: 24 characters.
  std::uint8_t decoded[18];
  if (key.size() != 24 ||
      boost::beast::detail::base64::decode(decoded, key.data(), key.size())
              .first != 16) {
    return "Sec-WebSocket-Key must be 16 bytes in base64";
  }
  return {};
}

bool OffersSubprotocol(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    std::size_t comma = header.find(',');
    std::string_view token = header.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
      token.remove_suffix(1);
    if (token == name) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

std::string WsAcceptValue(std::string_view key) {
  namespace detail = boost::beast::detail;
  static constexpr std::string_view kGuid =
      "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  detail::sha1_context ctx;
  detail::init(ctx);
  detail::update(ctx, key.data(), key.size());
  detail::update(ctx, kGuid.data(), kGuid.size());
  char digest[detail::sha1_context::digest_size];
  detail::finish(ctx, digest);
  std::string accept(detail::base64::encoded_size(sizeof(digest)), '\0');
  accept.resize(detail::base64::encode(accept.data(), digest, sizeof(digest)));
  return accept;
}

asio::awaitable<void> RunSyncSession(tcp::socket socket, WsUpgrade upgrade,
                                     SyncService& service) {
  auto transport = std::make_shared<WsTransport>(
      std::move(socket), service.idle_timeout, service.max_outbound_bytes,
      service.outbound_bytes);
  {
    std::string response =
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Server: weftd\r\n"
        "Sec-WebSocket-Accept: " +
        WsAcceptValue(upgrade.key) + "\r\n";
    if (upgrade.offers_subprotocol) {
      response += "Sec-WebSocket-Protocol: weft.v1\r\n";
    }
    response += "\r\n";
    upgrade = {};
    // The connection is registered (and its deadlines swept) only after
    // this write: a peer that never reads (a zero window) held it, its
    // descriptor and every shutdown's grace period for ever. It gets the
    // hello deadline.
    asio::steady_timer guard(co_await asio::this_coro::executor);
    guard.expires_after(service.hello_timeout);
    auto written = std::make_shared<bool>(false);
    guard.async_wait([written, transport](boost::system::error_code e) {
      if (e || *written) return;
      boost::system::error_code ignored;
      transport->socket().close(ignored);
    });
    auto [ec, n] = co_await asio::async_write(transport->socket(),
                                              asio::buffer(response), kTuple);
    *written = true;
    guard.cancel();
    if (ec) co_return;
  }

  auto conn = std::make_shared<SyncConnection>(
      service.next_session.fetch_add(1), transport, service.hub, service.auth,
      service.access, service.clock, service.limits);
  transport->OnServerClose([weak = std::weak_ptr<SyncConnection>(conn)] {
    if (auto c = weak.lock()) c->LeaveDocuments();
  });
  service.registry.Add(conn);
  // An upgrade that raced with shutdown missed CloseAll.
  if (service.shutting_down.load()) conn->Close(1001, "server shutting down");
  // The hello deadline, token expiry and idle timeout are checked for all
  // connections at once (ConnectionRegistry::CheckDeadlines), not by a
  // timer here.
  // The end of the connection, also when handling a message throws (not
  // when the frame is destroyed suspended, as the io_context goes away).
  auto ended = [&] {
    transport->ReaderDone();
    if (service.on_disconnect) {
      service.on_disconnect(transport->DisconnectReason());
    }
    conn->OnClosed();
    service.registry.Remove(conn.get());
  };
  try {
    co_await ReadFrames(*transport, *conn, service.max_message_bytes);
  } catch (...) {
    ended();
    throw;
  }
  ended();
}

}  // namespace weft::server
