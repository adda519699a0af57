#include "load_run.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "core/text_doc.h"
#include "proto/codec.h"
#include "typist.h"

namespace weft::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
using Strand = asio::strand<asio::io_context::executor_type>;
constexpr auto kUnavailable =
    static_cast<std::uint64_t>(proto::ErrorCode::kUnavailable);
constexpr auto kRateLimited =
    static_cast<std::uint64_t>(proto::ErrorCode::kRateLimited);
constexpr auto kOutOfOrder =
    static_cast<std::uint64_t>(proto::ErrorCode::kOutOfOrder);

std::int64_t Ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             t.time_since_epoch())
      .count();
}
std::int64_t NowNs() { return Ns(Clock::now()); }

// Seconds (validated by main: finite, non-negative, bounded) as a duration.
std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

// Latencies are recorded into the histograms of the I/O thread that
// observes them and merged at the end.
struct ThreadStats {
  LatencyHistogram ack, remote, send_lag;
};
thread_local ThreadStats* t_stats = nullptr;

class Session;

// State shared by every session: read-only after the start, or atomic.
struct Shared {
  LoadOptions opt;
  tcp::endpoint endpoint;
  std::string host;
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> typing_start_ns{0};
  std::atomic<std::int64_t> typing_end_ns{0};
  std::atomic<std::uint64_t> sent{0}, acked{0}, remote{0}, errors{0},
      reconnects{0}, resubscribes{0}, synced{0}, connect_failures{0},
      duplicates{0}, gaps{0}, skipped{0}, opening{0}, scheduled{0}, unsent{0},
      slow_consumer{0}, gave_up{0}, resends{0}, typists_running{0};
  std::atomic<std::int64_t> last_ack_ns{0};  // when the latest ack arrived
  // client id -> its session, for the send-time table (built before start).
  std::unordered_map<std::uint64_t, Session*> by_client;
  std::mutex error_mu;
  std::vector<std::string> error_samples;

  void Error(const std::string& what) {
    errors.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(error_mu);
    if (error_samples.size() < 20) error_samples.push_back(what);
  }
};

// One WebSocket connection of a session; a reconnect makes a new one.
struct Conn {
  explicit Conn(const Strand& strand) : ws(strand) {}
  websocket::stream<beast::tcp_stream> ws;
  std::deque<std::string> outq;
  bool writing = false;
  bool closed = false;

  void Shut() {
    closed = true;
    boost::system::error_code ec;
    beast::get_lowest_layer(ws).socket().close(ec);
  }
};

struct AckedChange {
  std::uint64_t first_seq, span, server_seq;
};

// What a verifier (a fresh replica subscribed from 0) found on a document.
struct DocTruth {
  bool ok = false;
  std::string text;
  core::StateVector sv;
  std::uint64_t head = 0;
};

// One simulated user: a sync connection on its own strand, subscribed to
// one document, with an engine replica (typists and verifiers).
class Session {
 public:
  enum class Kind { kTypist, kIdle, kVerifier };

  Session(Shared& sh, asio::io_context& ioc, Kind kind, std::string doc,
          std::string token, std::uint64_t client_id, std::uint64_t seed,
          std::size_t send_capacity)
      : sh_(sh),
        strand_(asio::make_strand(ioc)),
        kind_(kind),
        doc_(std::move(doc)),
        token_(std::move(token)),
        client_id_(client_id),
        typist_(seed),
        rng_(seed ^ 0x9e3779b97f4a7c15ull),
        sent_cap_(send_capacity),
        give_up_timer_(strand_) {
    if (kind_ != Kind::kIdle) {
      replica_ = std::make_unique<core::TextDoc>(client_id_);
    }
    if (sent_cap_ > 0) {
      sent_at_ = std::make_unique<std::atomic<std::int64_t>[]>(sent_cap_);
    }
  }

  const std::string& doc() const { return doc_; }
  std::uint64_t client_id() const { return client_id_; }
  Kind kind() const { return kind_; }

  // When the session was first synced or gave up (once).
  std::function<void(bool synced)> on_first_outcome;
  // Verifiers: what they found once synced.
  std::promise<DocTruth> truth;

  void Start() { asio::co_spawn(strand_, Run(), asio::detached); }
  void StartTyping() {
    if (kind_ != Kind::kTypist) return;
    sh_.typists_running.fetch_add(1);
    asio::co_spawn(strand_, Type(), asio::detached);
  }
  void Stop() {
    asio::post(strand_, [this] {
      give_up_timer_.cancel();
      if (conn_) conn_->Shut();
    });
  }
  // The session gave up (a fatal answer, or no sync within
  // --reconnect-timeout): it will not sync again.
  bool dead() const { return a_dead_.load(std::memory_order_relaxed); }

  // The send time of the own change starting at `seq` (0 if unknown).
  std::int64_t SentAt(std::uint64_t seq) const {
    return seq < sent_cap_ ? sent_at_[seq].load(std::memory_order_relaxed) : 0;
  }

  std::uint64_t unacked() const {
    return a_unacked_.load(std::memory_order_relaxed);
  }
  std::uint64_t last_seq() const {
    return a_last_seq_.load(std::memory_order_relaxed);
  }
  std::uint64_t max_acked_seq() const {
    return a_max_acked_.load(std::memory_order_relaxed);
  }

  struct Final {
    std::string text;
    std::vector<AckedChange> acked;
    std::uint64_t unacked = 0;
    bool connected = false;
  };
  // Applies what is pending and reports, on the session's strand.
  std::future<Final> Finish() {
    auto p = std::make_shared<std::promise<Final>>();
    auto f = p->get_future();
    asio::post(strand_, [this, p] {
      Final out;
      FlushRemote();
      if (replica_) out.text = replica_->Text();
      out.acked = acked_;
      out.unacked = unacked_.size();
      out.connected = synced_;
      p->set_value(std::move(out));
    });
    return f;
  }

 private:
  awaitable<void> Sleep(std::chrono::milliseconds d) {
    asio::steady_timer t(strand_, d);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
  }

  awaitable<boost::system::error_code> Open(Conn& c) {
    boost::system::error_code ec;
    auto& lowest = beast::get_lowest_layer(c.ws);
    lowest.expires_after(std::chrono::seconds(10));
    co_await lowest.async_connect(sh_.endpoint,
                                  asio::redirect_error(use_awaitable, ec));
    if (ec) co_return ec;
    lowest.socket().set_option(tcp::no_delay(true), ec);
    c.ws.set_option(
        websocket::stream_base::decorator([](websocket::request_type& req) {
          req.set(beast::http::field::sec_websocket_protocol, "weft.v1");
        }));
    co_await c.ws.async_handshake(sh_.host, "/api/v1/sync",
                                  asio::redirect_error(use_awaitable, ec));
    if (ec) co_return ec;
    lowest.expires_never();
    // A server that stops answering (stopped, black-holed) is noticed: a
    // ping after 15 s of silence, the connection dropped (and resumed, or
    // given up after --reconnect-timeout) after 30 s without a frame.
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(10);
    t.idle_timeout = std::chrono::seconds(30);
    t.keep_alive_pings = true;
    c.ws.set_option(t);
    c.ws.binary(true);
    c.ws.read_message_max(std::size_t{64} << 20);
    co_return ec;
  }

  void FirstOutcome(bool synced) {
    if (reported_) return;
    reported_ = true;
    if (!synced) sh_.connect_failures.fetch_add(1, std::memory_order_relaxed);
    if (on_first_outcome) on_first_outcome(synced);
  }

  // The session is not synced: starts the give-up clock unless it runs
  // already. Only reaching `synced` (OnSynced) stops it, so a server that
  // accepts and then closes, or keeps refusing the subscribe, cannot keep
  // the user retrying past --reconnect-timeout.
  void LostSync() {
    synced_ = false;
    if (give_up_armed_ || fatal_) return;
    give_up_armed_ = true;
    auto gen = ++give_up_gen_;
    give_up_timer_.expires_after(Millis(sh_.opt.reconnect_timeout_s));
    give_up_timer_.async_wait([this, gen](boost::system::error_code ec) {
      if (ec || gen != give_up_gen_ || synced_ || sh_.stopping.load()) return;
      char secs[32];
      std::snprintf(secs, sizeof secs, "%g", sh_.opt.reconnect_timeout_s);
      GiveUp("no sync with " + doc_ + " for " + secs + " s, giving up" +
             (last_failure_.empty() ? "" : " (last: " + last_failure_ + ")"));
    });
  }
  void Synced() {
    synced_ = true;
    give_up_armed_ = false;
    ++give_up_gen_;
    give_up_timer_.cancel();
  }

  // Ends the session for good: what it reports is its outcome.
  void GiveUp(const std::string& why) {
    if (fatal_) return;
    fatal_ = true;
    a_dead_.store(true, std::memory_order_relaxed);
    synced_ = false;
    sh_.gave_up.fetch_add(1, std::memory_order_relaxed);
    sh_.Error(why);
    give_up_timer_.cancel();
    if (conn_) conn_->Shut();
  }

  awaitable<void> Run() {
    LostSync();  // the give-up clock runs until the first `synced`
    std::chrono::milliseconds backoff(50);
    for (;;) {
      if (sh_.stopping.load() || fatal_) break;
      auto c = std::make_shared<Conn>(strand_);
      conn_ = c;
      sub_ = Sub::kNone;
      resend_pending_ = false;
      resend_ping_ = 0;
      auto ec = co_await Open(*c);
      if (ec) {
        c->Shut();
        if (sh_.stopping.load() || fatal_) break;
        last_failure_ = "connect to " + sh_.host + ": " + ec.message();
        co_await Sleep(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
        continue;
      }
      Send(proto::Encode(
          proto::Hello{proto::kProtocolVersion, token_, "weft-load"}));
      beast::flat_buffer buffer;
      for (;;) {
        co_await c->ws.async_read(buffer,
                                  asio::redirect_error(use_awaitable, ec));
        if (ec) break;
        auto data = buffer.cdata();
        auto m = proto::Decode(std::string_view(
            static_cast<const char*>(data.data()), data.size()));
        buffer.consume(buffer.size());
        if (!m.ok()) {
          sh_.Error("undecodable message: " + m.status().ToString());
          continue;
        }
        Handle(std::move(*m));
        if (fatal_) break;
      }
      c->Shut();
      bool was_synced = synced_;
      if (sh_.stopping.load() || verifier_done_ || fatal_) break;
      auto code = c->ws.reason().code;
      std::string closed = "closed by server: " + std::to_string(code) + " " +
                           std::string(c->ws.reason().reason.c_str());
      // A bad request, a bad or expired token (weft-load never sends
      // `auth`): reconnecting cannot help.
      if (code == 4400 || code == 4401 || code == 4402) {
        GiveUp(closed + " on " + doc_);
        break;
      }
      // The server went away (or closed us): resume after a pause.
      LostSync();
      sh_.reconnects.fetch_add(1, std::memory_order_relaxed);
      last_failure_ = code == websocket::close_code::none
                          ? "connection lost: " + ec.message()
                          : closed;
      if (code == 4508) {
        sh_.slow_consumer.fetch_add(1, std::memory_order_relaxed);
      }
      // 1001 (going away: a graceful restart) and 1012 (service restart)
      // are drops like a lost connection, not errors.
      if (code != websocket::close_code::none &&
          code != websocket::close_code::going_away &&
          code != websocket::close_code::service_restart) {
        sh_.Error(closed);
      }
      // At once after a connection that worked (a restart: resume fast);
      // backing off while the server keeps closing us (say 4503 while
      // its store is down), instead of a hello every 50 ms per session.
      backoff = was_synced
                    ? std::chrono::milliseconds(50)
                    : std::min(backoff * 2, std::chrono::milliseconds(1000));
      co_await Sleep(backoff);
    }
    give_up_timer_.cancel();
    FirstOutcome(false);
    if (kind_ == Kind::kVerifier && !truth_set_) {
      truth_set_ = true;
      truth.set_value(DocTruth{});
    }
  }

  void Send(std::string bytes) {
    auto c = conn_;
    if (!c || c->closed) return;
    c->outq.push_back(std::move(bytes));
    if (!c->writing) {
      c->writing = true;
      asio::co_spawn(strand_, WriteLoop(c), asio::detached);
    }
  }

  awaitable<void> WriteLoop(std::shared_ptr<Conn> c) {
    while (!c->outq.empty() && !c->closed) {
      std::string m = std::move(c->outq.front());
      c->outq.pop_front();
      boost::system::error_code ec;
      co_await c->ws.async_write(asio::buffer(m),
                                 asio::redirect_error(use_awaitable, ec));
      if (ec) {
        c->Shut();
        break;
      }
    }
    c->writing = false;
  }

  void Handle(proto::Message m) {
    if (std::get_if<proto::Welcome>(&m)) {
      Send(proto::Encode(proto::Subscribe{doc_, last_seq_}));
      sub_ = Sub::kSent;
      resubscribe_backoff_ = std::chrono::milliseconds(100);
    } else if (auto* sub = std::get_if<proto::Subscribed>(&m)) {
      if (sub->doc == doc_) sub_ = Sub::kSubscribed;
    } else if (auto* snap = std::get_if<proto::Snapshot>(&m)) {
      OnSnapshot(*snap);
    } else if (auto* ops = std::get_if<proto::Ops>(&m)) {
      OnOps(*ops);
    } else if (std::get_if<proto::Synced>(&m)) {
      OnSynced();
    } else if (auto* ack = std::get_if<proto::Ack>(&m)) {
      OnAck(*ack);
    } else if (auto* pong = std::get_if<proto::Pong>(&m)) {
      if (pong->nonce == resend_ping_) resend_ping_ = 0;
    } else if (auto* e = std::get_if<proto::Error>(&m)) {
      OnError(*e);
    } else if (auto* u = std::get_if<proto::Unsubscribed>(&m)) {
      if (u->doc != doc_) {
        sh_.Error("unsubscribed " + std::to_string(u->code) + " from " +
                  u->doc);
      } else if (u->code == kUnavailable) {
        // A write failed and its outcome is unknown: the server kept
        // nothing unacknowledged and reads the document again from its
        // log. Subscribe again and resend (protocol.md, `unsubscribed`).
        LostSync();
        if (sub_ != Sub::kWaiting) Resubscribe();
      } else {
        // Access removed, document deleted: nothing to resume.
        GiveUp("unsubscribed " + std::to_string(u->code) + " from " + u->doc +
               ": " + u->message);
      }
    }
  }

  void OnError(const proto::Error& e) {
    std::string what = "error " + std::to_string(e.code) + " on " +
                       (e.doc.empty() ? "the connection" : e.doc) + ": " +
                       e.message;
    if (e.doc != doc_) {
      sh_.Error(what);
      return;
    }
    if (sub_ == Sub::kSent) {
      // The answer to the subscribe (protocol.md: answers come in order),
      // or to a submit that crossed an `unsubscribed`.
      if (e.code == kUnavailable || e.code == kRateLimited) {
        // The server could not serve it (its store is failing) or wants
        // us slower: try again. If this answered a crossed submit and the
        // subscribe succeeds, the retry armed here finds the document
        // subscribed and does nothing; what the submit carried is resent
        // after `synced`.
        Resubscribe();
      } else if (e.code != kOutOfOrder) {
        // Not found (deleted, or no access), forbidden, ...: final.
        GiveUp("subscribe to " + doc_ + " refused: " + what);
      }
      return;
    }
    if (e.code == kOutOfOrder) {
      // An earlier submit was dropped (429, 503): the server expects
      // expected_seq next. While a resend is armed or unconfirmed (its
      // ping unanswered), this answers a submit sent before the resend,
      // which carries the change again.
      if (sub_ == Sub::kSubscribed && !resend_pending_ && resend_ping_ == 0) {
        Resend(e.expected_seq);
      }
      return;
    }
    if (e.code == kRateLimited || e.code == kUnavailable) {
      // A submit refused (429: dropped; 503 while subscribed: "change
      // dropped; resubscribe and resend"): resend what is not
      // acknowledged after a back-off. While a resubscribe is pending,
      // `synced` resends everything anyway.
      if (sub_ == Sub::kSubscribed) ScheduleResend();
      return;
    }
    // Forbidden, invalid_update, too_large: the server dropped a change
    // and every later one would be out of order.
    GiveUp(what);
  }

  // Resends, in order, the unacknowledged changes from `from_seq` (the
  // server acknowledges again those it already holds), then a ping: until
  // its pong, `out_of_order` errors answer submits sent before the resend.
  void Resend(std::uint64_t from_seq) {
    proto::Submit s{doc_, {}};
    auto flush = [&] {
      if (s.changes.empty()) return;
      Send(proto::Encode(s));
      s.changes.clear();
    };
    for (const auto& ch : unacked_) {
      if (ch.first_seq + ch.span <= from_seq) continue;
      s.changes.push_back(ch);
      if (s.changes.size() == 1024) flush();
    }
    flush();
    sh_.resends.fetch_add(1, std::memory_order_relaxed);
    resend_ping_ = ++ping_nonce_;
    Send(proto::Encode(proto::Ping{resend_ping_}));
  }

  // Runs `then` on the strand after `*backoff` (which then doubles, up to
  // 2 s), unless this connection ended or the session stopped meanwhile.
  template <typename F>
  void AfterBackoff(std::chrono::milliseconds* backoff, F then) {
    auto delay = *backoff;
    *backoff = std::min(*backoff * 2, std::chrono::milliseconds(2000));
    asio::co_spawn(
        strand_,
        [this, c = conn_, delay, then]() -> awaitable<void> {
          co_await Sleep(delay);
          if (c != conn_ || c->closed || sh_.stopping.load() || fatal_) {
            co_return;
          }
          then();
        },
        asio::detached);
  }

  void ScheduleResend() {
    if (resend_pending_) return;
    resend_pending_ = true;
    AfterBackoff(&resend_backoff_, [this] {
      resend_pending_ = false;
      // A resubscribe resends after its `synced`.
      if (sub_ == Sub::kSubscribed && synced_) Resend(0);
    });
  }

  // Subscribes again on the same connection after a back-off: at most one
  // subscribe is pending or in flight at a time (a second one would be
  // refused as "already subscribed").
  void Resubscribe() {
    sh_.resubscribes.fetch_add(1, std::memory_order_relaxed);
    sub_ = Sub::kWaiting;
    LostSync();
    AfterBackoff(&resubscribe_backoff_, [this] {
      if (sub_ != Sub::kWaiting) return;
      Send(proto::Encode(proto::Subscribe{doc_, last_seq_}));
      sub_ = Sub::kSent;
    });
  }

  void OnSnapshot(const proto::Snapshot& snap) {
    last_seq_ = snap.last_included_seq;
    a_last_seq_.store(last_seq_, std::memory_order_relaxed);
    if (!replica_) return;
    auto loaded = core::TextDoc::LoadSnapshot(snap.state, client_id_);
    if (!loaded.ok()) {
      sh_.Error("snapshot of " + doc_ + ": " + loaded.status().ToString());
      return;
    }
    // The user's own changes the old replica had and the snapshot lacks:
    // acknowledged ones with a seq above last_included_seq come back in
    // `ops` and must be applied then (OnOps); unacknowledged ones are
    // applied again below.
    auto own_next = [this](const core::TextDoc& d) -> std::uint64_t {
      auto sv = d.GetStateVector();
      auto it = sv.find(client_id_);
      return it == sv.end() ? 0 : it->second;
    };
    own_missing_until_ = std::max(own_missing_until_, own_next(*replica_));
    replica_ = std::move(*loaded);
    own_missing_from_ = own_next(*replica_);
    next_from_.clear();
    for (auto [c, n] : replica_->GetStateVector()) next_from_[c] = n;
    remote_.clear();
    for (const auto& ch : unacked_) {
      if (!replica_->ApplyUpdate(ch.update, false).ok()) {
        sh_.Error("own change does not apply after a snapshot");
      }
    }
  }

  void OnOps(proto::Ops& ops) {
    std::int64_t now = NowNs();
    std::uint64_t seq = ops.first_seq;
    if (seq != last_seq_ + 1) {
      if (seq > last_seq_ + 1) {
        sh_.gaps.fetch_add(1, std::memory_order_relaxed);
        sh_.Error("gap in " + doc_ + ": ops from " + std::to_string(seq) +
                  " after " + std::to_string(last_seq_));
      } else {
        sh_.duplicates.fetch_add(1, std::memory_order_relaxed);
        sh_.Error("ops " + std::to_string(seq) + " again in " + doc_);
      }
    }
    for (auto& c : ops.changes) {
      std::uint64_t s = seq++;
      if (s <= last_seq_) continue;
      last_seq_ = s;
      auto& next = next_from_[c.client_id];
      if (c.first_seq < next) {
        sh_.duplicates.fetch_add(1, std::memory_order_relaxed);
        sh_.Error("change " + std::to_string(c.client_id) + ":" +
                  std::to_string(c.first_seq) + " delivered twice in " + doc_);
        continue;
      }
      if (c.first_seq > next) {
        sh_.gaps.fetch_add(1, std::memory_order_relaxed);
        sh_.Error("changes of client " + std::to_string(c.client_id) +
                  " skipped in " + doc_);
      }
      next = c.first_seq + c.span;
      if (c.client_id == client_id_) {
        // Own changes are in the replica already, but for those a
        // snapshot replaced it without (applying twice is a no-op).
        if (replica_ && c.first_seq < own_missing_until_ &&
            c.first_seq + c.span > own_missing_from_) {
          remote_.push_back(std::move(c.update));
        }
        continue;
      }
      if (kind_ != Kind::kVerifier) {
        sh_.remote.fetch_add(1, std::memory_order_relaxed);
        auto it = sh_.by_client.find(c.client_id);
        if (it != sh_.by_client.end() && t_stats) {
          std::int64_t sent = it->second->SentAt(c.first_seq);
          if (sent > 0 && now >= sent) {
            t_stats->remote.Record(static_cast<std::uint64_t>(now - sent) /
                                   1000);
          }
        }
      }
      if (replica_ && !(kind_ == Kind::kTypist && sh_.opt.lean)) {
        remote_.push_back(std::move(c.update));
      }
    }
    a_last_seq_.store(last_seq_, std::memory_order_relaxed);
    if (kind_ == Kind::kVerifier || remote_.size() > 256) FlushRemote();
  }

  void FlushRemote() {
    if (!replica_) return;
    for (const auto& u : remote_) {
      auto r = replica_->ApplyUpdate(u, false);
      if (!r.ok()) sh_.Error("remote update: " + r.status().ToString());
    }
    remote_.clear();
  }

  void OnSynced() {
    Synced();
    resubscribe_backoff_ = std::chrono::milliseconds(100);
    resend_pending_ = false;
    resend_ping_ = 0;
    if (!reported_) {
      if (kind_ != Kind::kVerifier) {
        sh_.synced.fetch_add(1, std::memory_order_relaxed);
      }
      FirstOutcome(true);
    }
    if (kind_ == Kind::kVerifier && !truth_set_) {
      truth_set_ = true;
      FlushRemote();
      DocTruth t;
      t.ok = replica_->pending_runs() == 0;
      t.text = replica_->Text();
      t.sv = replica_->GetStateVector();
      t.head = last_seq_;
      truth.set_value(std::move(t));
      verifier_done_ = true;  // Run sees the close and ends
      conn_->Shut();
      return;
    }
    // Resubmit what was not acknowledged before a disconnect, in order.
    if (!unacked_.empty()) Resend(0);
  }

  void OnAck(const proto::Ack& ack) {
    std::int64_t now = NowNs();
    for (const auto& e : ack.entries) {
      if (e.client_id != client_id_) {
        sh_.Error("ack for another client in " + doc_);
        continue;
      }
      if (!unacked_.empty() && unacked_.front().first_seq == e.first_seq) {
        const auto& front = unacked_.front();
        std::int64_t sent = SentAt(e.first_seq);
        if (sent > 0 && t_stats) {
          t_stats->ack.Record(static_cast<std::uint64_t>(now - sent) / 1000);
        }
        acked_.push_back({front.first_seq, front.span, e.server_seq});
        sh_.acked.fetch_add(front.span, std::memory_order_relaxed);
        std::int64_t seen = sh_.last_ack_ns.load(std::memory_order_relaxed);
        while (seen < now && !sh_.last_ack_ns.compare_exchange_weak(
                                 seen, now, std::memory_order_relaxed)) {
        }
        a_max_acked_.store(
            std::max(a_max_acked_.load(std::memory_order_relaxed),
                     e.server_seq),
            std::memory_order_relaxed);
        unacked_.pop_front();
        a_unacked_.store(unacked_.size(), std::memory_order_relaxed);
        resend_backoff_ = std::chrono::milliseconds(100);
      } else if (!acked_.empty() && e.first_seq <= acked_.back().first_seq) {
        // A resubmitted change acknowledged again: must keep its seq.
        auto it = std::lower_bound(acked_.begin(), acked_.end(), e.first_seq,
                                   [](const AckedChange& a, std::uint64_t s) {
                                     return a.first_seq < s;
                                   });
        if (it == acked_.end() || it->first_seq != e.first_seq ||
            it->server_seq != e.server_seq) {
          sh_.Error("change acknowledged again with another seq in " + doc_);
        }
      } else {
        sh_.Error("unexpected ack " + std::to_string(e.first_seq) + " in " +
                  doc_);
      }
    }
  }

  // Ticks are scheduled `interval` apart from a random phase; a change's
  // latencies count from its tick's scheduled time, so a tick that goes
  // out late (weft-load behind) shows in them (no coordinated omission),
  // and how late it went out is recorded as the send lag. Ticks owed when
  // the typing ends are counted as not sent.
  awaitable<void> Type() {
    asio::steady_timer timer(strand_);
    auto interval = std::chrono::nanoseconds(static_cast<std::int64_t>(
        1e9 * sh_.opt.batch / std::max(sh_.opt.rate, 1e-6)));
    interval = std::max(interval, std::chrono::nanoseconds(1));
    auto start =
        Clock::time_point(std::chrono::nanoseconds(sh_.typing_start_ns.load()));
    auto end =
        Clock::time_point(std::chrono::nanoseconds(sh_.typing_end_ns.load()));
    auto batch = static_cast<std::uint64_t>(sh_.opt.batch);
    // Users start at random phases so that ticks do not bunch.
    auto next = start + std::chrono::nanoseconds(
                            std::uniform_int_distribution<std::int64_t>(
                                0, interval.count())(rng_));
    std::uint64_t ticks = 0;
    while (next < end) {
      timer.expires_at(next);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
      if (sh_.stopping.load() || Clock::now() >= end) break;
      std::int64_t scheduled = Ns(next);
      next += interval;
      ++ticks;
      if (!synced_) {
        sh_.skipped.fetch_add(batch, std::memory_order_relaxed);
        continue;
      }
      FlushRemote();
      proto::Submit submit{doc_, {}};
      for (std::uint64_t i = 0; i < batch; ++i) {
        auto change = typist_.Edit(*replica_);
        if (!change.ok()) {
          sh_.Error("local edit: " + change.status().ToString());
          break;
        }
        if (change->first_seq < sent_cap_) {
          sent_at_[change->first_seq].store(scheduled,
                                            std::memory_order_relaxed);
        }
        unacked_.push_back(*change);
        submit.changes.push_back(std::move(*change));
      }
      a_unacked_.store(unacked_.size(), std::memory_order_relaxed);
      sh_.sent.fetch_add(submit.changes.size(), std::memory_order_relaxed);
      if (t_stats) {
        t_stats->send_lag.Record(
            static_cast<std::uint64_t>(
                std::max<std::int64_t>(0, NowNs() - scheduled)) /
            1000);
      }
      Send(proto::Encode(submit));
    }
    std::uint64_t owed = 0;
    if (next < end) {
      owed = static_cast<std::uint64_t>(
          (end - next + interval - std::chrono::nanoseconds(1)) / interval);
    }
    sh_.unsent.fetch_add(owed * batch, std::memory_order_relaxed);
    sh_.scheduled.fetch_add((ticks + owed) * batch, std::memory_order_relaxed);
    sh_.typists_running.fetch_sub(1);
  }

  Shared& sh_;
  Strand strand_;
  Kind kind_;
  std::string doc_;
  std::string token_;
  std::uint64_t client_id_;
  Typist typist_;
  std::mt19937_64 rng_;
  std::unique_ptr<core::TextDoc> replica_;
  std::vector<std::string> remote_;  // updates not applied yet
  std::deque<proto::Change> unacked_;
  std::vector<AckedChange> acked_;
  std::map<std::uint64_t, std::uint64_t> next_from_;  // client -> next seq
  std::size_t sent_cap_;
  std::unique_ptr<std::atomic<std::int64_t>[]> sent_at_;
  std::shared_ptr<Conn> conn_;
  std::uint64_t last_seq_ = 0;
  bool synced_ = false;
  // The subscription on the current connection: a subscribe waiting for
  // its back-off, sent and unanswered, or answered with `subscribed`.
  enum class Sub { kNone, kWaiting, kSent, kSubscribed };
  Sub sub_ = Sub::kNone;
  std::chrono::milliseconds resubscribe_backoff_{100};
  // Resends after a refused submit: one armed at a time; the nonce of the
  // ping that follows the latest resend (0: answered).
  bool resend_pending_ = false;
  std::uint64_t resend_ping_ = 0, ping_nonce_ = 0;
  std::chrono::milliseconds resend_backoff_{100};
  // Own seqs a snapshot dropped from the replica: [from, until).
  std::uint64_t own_missing_from_ = 0, own_missing_until_ = 0;
  // Gives up when sync is not (re)gained within --reconnect-timeout.
  asio::steady_timer give_up_timer_;
  std::uint64_t give_up_gen_ = 0;
  bool give_up_armed_ = false;
  bool fatal_ = false;
  std::string last_failure_;
  std::atomic<bool> a_dead_{false};
  bool reported_ = false;
  bool truth_set_ = false;
  bool verifier_done_ = false;
  std::atomic<std::uint64_t> a_unacked_{0}, a_last_seq_{0}, a_max_acked_{0};
};

// The I/O threads and the sessions of one run.
class Driver {
 public:
  explicit Driver(const LoadOptions& opt) : ioc_(opt.threads) {
    sh_.opt = opt;
    stats_.resize(static_cast<std::size_t>(std::max(1, opt.threads)));
    for (auto& s : stats_) s = std::make_unique<ThreadStats>();
  }
  ~Driver() { Join(); }

  Status Resolve(const Endpoint& e) {
    boost::system::error_code ec;
    tcp::resolver resolver(ioc_);
    auto r = resolver.resolve(e.host, std::to_string(e.port), ec);
    if (ec || r.empty()) {
      return Status::Unavailable("resolve " + e.host + ": " + ec.message());
    }
    sh_.endpoint = *r.begin();
    sh_.host = e.host + ":" + std::to_string(e.port);
    return Status::Ok();
  }

  void StartThreads() {
    work_.emplace(asio::make_work_guard(ioc_));
    for (std::size_t i = 0; i < stats_.size(); ++i) {
      threads_.emplace_back([this, i] {
        t_stats = stats_[i].get();
        ioc_.run();
      });
    }
  }
  void Join() {
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  Session& Add(Session::Kind kind, const std::string& doc,
               const std::string& token, std::uint64_t client_id,
               std::uint64_t seed, std::size_t send_capacity) {
    sessions_.push_back(std::make_unique<Session>(
        sh_, ioc_, kind, doc, token, client_id, seed, send_capacity));
    return *sessions_.back();
  }

  // Starts the sessions from `from` with at most opt.connect_window opening
  // at once; returns when each one synced or gave up.
  void ConnectAll(std::size_t from, bool progress) {
    std::size_t n = sessions_.size() - from;
    std::atomic<std::size_t> done{0};
    std::mutex mu;
    std::condition_variable cv;
    auto window = static_cast<std::size_t>(std::max(1, sh_.opt.connect_window));
    auto last_print = Clock::now();
    for (std::size_t i = from; i < sessions_.size(); ++i) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return (i - from) - done.load() < window; });
      }
      sessions_[i]->on_first_outcome = [&](bool) {
        std::lock_guard lock(mu);
        done.fetch_add(1);
        cv.notify_all();
      };
      sessions_[i]->Start();
      if (progress && Clock::now() - last_print > std::chrono::seconds(1)) {
        last_print = Clock::now();
        std::fprintf(stderr, "connecting: %zu of %zu synced\n", done.load(), n);
      }
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done.load() == n; });
  }

  Shared& shared() { return sh_; }
  std::vector<std::unique_ptr<Session>>& sessions() { return sessions_; }

  void MergeStats(LoadResult* r) {
    for (auto& s : stats_) {
      r->ack.Merge(s->ack);
      r->remote.Merge(s->remote);
      r->send_lag.Merge(s->send_lag);
    }
  }

  // Reads every document through a fresh replica subscribed from 0.
  std::map<std::string, DocTruth> ReadTruth(
      const std::vector<std::string>& docs, const std::string& token) {
    std::size_t from = sessions_.size();
    std::mt19937_64 rng(sh_.opt.seed * 7919 + 17);
    for (const auto& d : docs) {
      Add(Session::Kind::kVerifier, d, token,
          (rng() >> 12) | 1,  // 52 bits: also safe for the JS engine
          0, 0);
    }
    std::vector<std::future<DocTruth>> futures;
    for (std::size_t i = from; i < sessions_.size(); ++i) {
      futures.push_back(sessions_[i]->truth.get_future());
    }
    ConnectAll(from, false);
    std::map<std::string, DocTruth> out;
    for (std::size_t i = 0; i < docs.size(); ++i) {
      out[docs[i]] = futures[i].get();
    }
    return out;
  }

 private:
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      work_;
  Shared sh_;
  std::vector<std::unique_ptr<ThreadStats>> stats_;
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<Session>> sessions_;
};

void RaiseFileLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

void CopyShared(Shared& sh, LoadResult* r) {
  r->connected = sh.synced.load();
  r->connect_failures = sh.connect_failures.load();
  r->sent_ops = sh.sent.load();
  r->acked_ops = sh.acked.load();
  r->remote_deliveries = sh.remote.load();
  r->duplicates = sh.duplicates.load();
  r->gaps = sh.gaps.load();
  r->reconnects = sh.reconnects.load();
  r->resubscribes = sh.resubscribes.load();
  r->skipped_edits = sh.skipped.load();
  r->scheduled_ops = sh.scheduled.load();
  r->unsent_ops = sh.unsent.load();
  r->slow_consumer_closes = sh.slow_consumer.load();
  r->gave_up = sh.gave_up.load();
  r->resends = sh.resends.load();
  r->errors += sh.errors.load();
  std::lock_guard lock(sh.error_mu);
  for (const auto& e : sh.error_samples) {
    if (r->error_samples.size() < 20) r->error_samples.push_back(e);
  }
}

void AddError(LoadResult* r, const std::string& what) {
  ++r->errors;
  if (r->error_samples.size() < 20) r->error_samples.push_back(what);
}

void PrintProgress(Shared& sh, double t, std::uint64_t* last_acked,
                   std::uint64_t* last_remote) {
  std::uint64_t acked = sh.acked.load(), remote = sh.remote.load();
  std::fprintf(stderr,
               "t=%5.1fs synced=%llu sent=%llu acked=%llu (+%llu/s) "
               "remote=+%llu/s reconnects=%llu errors=%llu\n",
               t, static_cast<unsigned long long>(sh.synced.load()),
               static_cast<unsigned long long>(sh.sent.load()),
               static_cast<unsigned long long>(acked),
               static_cast<unsigned long long>(acked - *last_acked),
               static_cast<unsigned long long>(remote - *last_remote),
               static_cast<unsigned long long>(sh.reconnects.load()),
               static_cast<unsigned long long>(sh.errors.load()));
  *last_acked = acked;
  *last_remote = remote;
}

Status WriteAckedFile(
    const std::string& path, const LoadOptions& opt, const std::string& token,
    const std::map<std::string, std::map<std::uint64_t, std::uint64_t>>& ends,
    std::uint64_t acked) {
  json::object docs;
  for (const auto& [doc, clients] : ends) {
    json::array a;
    for (auto [c, end] : clients) a.push_back(json::array{c, end});
    docs[doc] = std::move(a);
  }
  json::object v{{"url", opt.url},
                 {"access_token", token},
                 {"acked_ops", acked},
                 {"docs", std::move(docs)}};
  std::ofstream out(path, std::ios::trunc);
  out << json::serialize(v) << "\n";
  out.close();
  if (!out) return Status::Unavailable("cannot write " + path);
  return Status::Ok();
}

}  // namespace

Result<LoadResult> RunLoad(const LoadOptions& opt, const Endpoint& endpoint,
                           const LoadSetup& setup) {
  RaiseFileLimit();
  LoadResult r;
  r.mode = opt.idle ? "idle" : "typing";
  r.options = opt;
  Driver driver(opt);
  WEFT_RETURN_IF_ERROR(driver.Resolve(endpoint));
  RestClient rest(endpoint);
  if (auto rss = FetchServerRss(rest); rss.ok()) r.server_rss_before = *rss;
  double cpu0 = CpuSeconds();

  // Sessions: user i on document i % docs, its own client id.
  std::mt19937_64 rng(opt.seed);
  auto capacity = static_cast<std::size_t>(
      opt.idle ? 0 : opt.rate * (opt.duration_s + 5) * 1.5 + 1024);
  std::map<std::string, std::vector<Session*>> by_doc;
  for (int i = 0; i < opt.users; ++i) {
    const auto& doc =
        setup.docs[static_cast<std::size_t>(i) % setup.docs.size()];
    const auto& token =
        setup.accounts[static_cast<std::size_t>(i) % setup.accounts.size()]
            .access_token;
    std::uint64_t client = (rng() >> 12) | 1;
    auto& s =
        driver.Add(opt.idle ? Session::Kind::kIdle : Session::Kind::kTypist,
                   doc, token, client, rng(), capacity);
    driver.shared().by_client[client] = &s;
    by_doc[doc].push_back(&s);
  }
  driver.StartThreads();
  auto& sh = driver.shared();
  driver.ConnectAll(0, !opt.quiet);
  if (!opt.quiet) {
    std::fprintf(stderr, "connected: %llu of %d synced\n",
                 static_cast<unsigned long long>(sh.synced.load()), opt.users);
  }

  // Type (or hold) for the duration, one progress line a second.
  auto start = Clock::now() + std::chrono::milliseconds(20);
  auto end = start + Millis(opt.duration_s);
  sh.typing_start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           start.time_since_epoch())
                           .count();
  sh.typing_end_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         end.time_since_epoch())
                         .count();
  for (auto& s : driver.sessions()) s->StartTyping();
  std::uint64_t last_acked = 0, last_remote = 0;
  auto tick = start;
  while (Clock::now() < end) {
    tick += std::chrono::seconds(1);
    std::this_thread::sleep_until(std::min(tick, end));
    if (!opt.quiet) {
      PrintProgress(sh,
                    std::chrono::duration<double>(Clock::now() - start).count(),
                    &last_acked, &last_remote);
    }
  }
  r.elapsed_s = std::chrono::duration<double>(end - start).count();
  if (opt.idle) {
    if (auto rss = FetchServerRss(rest); rss.ok()) r.server_rss_after = *rss;
  }
  // Every typist counts its last ticks (sent, or owed) as the typing ends.
  for (int i = 0; i < 200 && sh.typists_running.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  // Drain: every change acknowledged and every session caught up (but
  // those that gave up: they are errors already). Checked at least once.
  auto drain_end = Clock::now() + Millis(opt.drain_s);
  bool drained = opt.idle;
  while (!drained) {
    bool done = true;
    for (auto& [doc, list] : by_doc) {
      std::uint64_t head = 0;
      for (auto* s : list) {
        if (s->unacked() > 0 && !s->dead()) done = false;
        head = std::max(head, s->max_acked_seq());
      }
      for (auto* s : list) {
        if (s->last_seq() < head && !s->dead()) done = false;
      }
    }
    if (done) drained = true;
    if (done || Clock::now() >= drain_end) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!drained) {
    AddError(&r, "not drained after " + std::to_string(opt.drain_s) +
                     " s: acks or deliveries still outstanding (overload)");
  }
  if (!opt.idle) {
    if (auto rss = FetchServerRss(rest); rss.ok()) r.server_rss_after = *rss;
  }

  // Check every document: a fresh replica from the server holds every
  // acknowledged change, equals the REST content and every user's replica.
  // The users' state is taken first, so that every change they saw
  // acknowledged was durable before the document is read back.
  std::map<std::string, std::map<std::uint64_t, std::uint64_t>> ends;
  if (!opt.idle) {
    std::map<const Session*, Session::Final> finals;
    for (auto& [doc, list] : by_doc) {
      for (auto* s : list) finals[s] = s->Finish().get();
    }
    std::vector<std::string> docs;
    for (auto& [doc, list] : by_doc) docs.push_back(doc);
    const std::string& token = setup.accounts.front().access_token;
    auto truth = driver.ReadTruth(docs, token);
    for (auto& [doc, list] : by_doc) {
      const DocTruth& t = truth[doc];
      ++r.docs_checked;
      // What the users saw acknowledged goes to the --acked file and the
      // counts whether or not the document can be read back now.
      for (auto* s : list) {
        const auto& fin = finals[s];
        r.unacked_ops += fin.unacked;
        for (const auto& a : fin.acked) {
          ends[doc][s->client_id()] =
              std::max(ends[doc][s->client_id()], a.first_seq + a.span);
        }
      }
      if (!t.ok) {
        AddError(&r, "could not read " + doc + " back");
        continue;
      }
      bool converged = true;
      std::uint64_t doc_changes = 0;
      for (auto* s : list) {
        const auto& fin = finals[s];
        doc_changes += fin.acked.size();
        auto it = t.sv.find(s->client_id());
        std::uint64_t have = it == t.sv.end() ? 0 : it->second;
        for (const auto& a : fin.acked) {
          if (a.first_seq + a.span > have) r.lost_ops += a.span;
          if (a.server_seq > t.head) {
            AddError(&r, "acknowledged seq beyond the head of " + doc);
          }
        }
        if (!opt.lean && fin.text != t.text) converged = false;
      }
      r.expected_remote_deliveries += doc_changes * (list.size() - 1);
      auto text = FetchText(rest, doc, token);
      if (!text.ok()) {
        AddError(&r, "content of " + doc + ": " + text.status().ToString());
      } else if (*text != t.text) {
        AddError(&r, "REST content of " + doc + " differs from the replica");
        converged = false;
      }
      if (converged) {
        ++r.docs_converged;
      } else {
        AddError(&r, "replicas of " + doc + " did not converge");
      }
    }
  }
  sh.stopping = true;
  for (auto& s : driver.sessions()) s->Stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  driver.Join();
  driver.MergeStats(&r);
  CopyShared(sh, &r);
  r.client_cpu_s = CpuSeconds() - cpu0;
  // Throughput over the time the acks took: when the server falls behind,
  // the drain adds to the denominator instead of flattering the rate.
  if (!opt.idle) {
    double until_last_ack =
        static_cast<double>(sh.last_ack_ns.load() - sh.typing_start_ns.load()) /
        1e9;
    r.ack_span_s = std::max(r.elapsed_s, until_last_ack);
  }
  if (r.lost_ops > 0) {
    AddError(&r, std::to_string(r.lost_ops) + " acknowledged ops missing");
  }
  if (r.unacked_ops > 0) {
    AddError(&r, std::to_string(r.unacked_ops) + " ops never acknowledged");
  }
  if (!opt.idle && r.reconnects == 0 && r.resubscribes == 0 &&
      r.remote_deliveries != r.expected_remote_deliveries) {
    AddError(&r, "delivered " + std::to_string(r.remote_deliveries) + " of " +
                     std::to_string(r.expected_remote_deliveries) +
                     " remote changes");
  }
  if (r.connect_failures > 0) {
    AddError(&r, std::to_string(r.connect_failures) + " users never synced");
  }
  // The offered load: every scheduled tick (users × rate × duration, up
  // to each user's phase) was sent, or skipped while disconnected (counted
  // apart); ticks weft-load was still behind on at the end were not.
  if (!opt.idle && static_cast<double>(r.sent_ops + r.skipped_edits) <
                       0.95 * static_cast<double>(r.scheduled_ops)) {
    AddError(&r, "offered load not sent: " + std::to_string(r.sent_ops) +
                     " ops sent and " + std::to_string(r.skipped_edits) +
                     " skipped of " + std::to_string(r.scheduled_ops) +
                     " scheduled (weft-load fell behind its schedule)");
  }
  if (!opt.acked_path.empty()) {
    WEFT_RETURN_IF_ERROR(WriteAckedFile(opt.acked_path, opt,
                                        setup.accounts.front().access_token,
                                        ends, r.acked_ops));
  }
  return r;
}

Result<LoadResult> RunVerify(const LoadOptions& opt, const Endpoint& endpoint) {
  LoadResult r;
  r.mode = "verify";
  r.options = opt;
  std::ifstream in(opt.verify_path);
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = json::parse(ss.str(), ec);
  if (ec || !v.is_object()) {
    return Status::InvalidArgument("not an acked file: " + opt.verify_path);
  }
  const auto& o = v.as_object();
  std::string token(o.at("access_token").as_string());
  std::vector<std::string> docs;
  for (const auto& [doc, _] : o.at("docs").as_object()) {
    docs.emplace_back(doc);
  }
  r.acked_ops =
      static_cast<std::uint64_t>(o.at("acked_ops").to_number<double>());
  Driver driver(opt);
  WEFT_RETURN_IF_ERROR(driver.Resolve(endpoint));
  driver.StartThreads();
  auto truth = driver.ReadTruth(docs, token);
  RestClient rest(endpoint);
  for (const auto& [doc, clients] : o.at("docs").as_object()) {
    const DocTruth& t = truth[std::string(doc)];
    ++r.docs_checked;
    if (!t.ok) {
      AddError(&r, "could not read " + std::string(doc) + " back");
      continue;
    }
    bool ok = true;
    for (const auto& pair : clients.as_array()) {
      auto c = pair.as_array().at(0).to_number<std::uint64_t>();
      auto end = pair.as_array().at(1).to_number<std::uint64_t>();
      auto it = t.sv.find(c);
      std::uint64_t have = it == t.sv.end() ? 0 : it->second;
      if (have < end) {
        r.lost_ops += end - have;
        ok = false;
      }
    }
    auto text = FetchText(rest, std::string(doc), token);
    if (!text.ok() || *text != t.text) {
      AddError(&r, "REST content of " + std::string(doc) +
                       " differs from the replica");
      ok = false;
    }
    if (ok) ++r.docs_converged;
  }
  driver.shared().stopping = true;
  driver.Join();
  CopyShared(driver.shared(), &r);
  r.acked_ops =
      static_cast<std::uint64_t>(o.at("acked_ops").to_number<double>());
  if (r.lost_ops > 0) {
    AddError(&r, std::to_string(r.lost_ops) + " acknowledged ops missing");
  }
  return r;
}

}  // namespace weft::load
