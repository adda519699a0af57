// The sync protocol over real WebSocket connections to an in-process
// HttpServer (memory log, list model, token and role tables).
#include <gtest/gtest.h>

#include <atomic>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

#include "client/sync_client.h"
#include "http_client.h"
#include "proto/codec.h"
#include "server/connection_registry.h"
#include "server/http_server.h"
#include "server/memory_document_log.h"
#include "server/system_routes.h"
#include "sync_fakes.h"

namespace weft::server {
namespace {

using namespace std::chrono_literals;
using client::SyncClient;
constexpr auto kWait = 5s;

int RawSubscriber(std::uint16_t port, int timeout_s, int rcvbuf,
                  std::string* in, const std::string& more = "");
std::string ClientFrame(std::uint8_t first_byte, const std::string& payload);

class SyncWsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto expiry = std::chrono::system_clock::now() + 1h;
    tokens_.Set("alice", Identity{"alice", expiry});
    tokens_.Set("bob", Identity{"bob", expiry});
    tokens_.Set("vera", Identity{"vera", expiry});
    for (const char* u : {"alice", "bob"})
      roles_.Set(u, "doc", proto::Role::kEditor);
    roles_.Set("vera", "doc", proto::Role::kViewer);
    service_.max_message_bytes = 64 * 1024;
    config_.port = 0;
    config_.threads = threads_;
    AddSystemRoutes(router_, metrics_);
    AddRoutes();
    server_ = std::make_unique<HttpServer>(config_, router_, log_, metrics_,
                                           &service_);
    ASSERT_TRUE(server_->Listen().ok());
    thread_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    server_->Stop();
    thread_.join();
  }

  std::unique_ptr<SyncClient> Open(const std::string& token) {
    auto c = SyncClient::Connect("127.0.0.1", server_->port());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return nullptr;
    EXPECT_TRUE((*c)->Send(proto::Hello{1, token, "test"}).ok());
    auto welcome = (*c)->ReceiveUntil<proto::Welcome>(kWait);
    EXPECT_TRUE(welcome.ok()) << welcome.status().ToString();
    return std::move(*c);
  }

  std::unique_ptr<SyncClient> Join(const std::string& token,
                                   std::uint64_t since = 0) {
    auto c = Open(token);
    EXPECT_TRUE(c->Send(proto::Subscribe{"doc", since}).ok());
    EXPECT_TRUE(c->ReceiveUntil<proto::Synced>(kWait).ok());
    return c;
  }

  // From now on, why the server disconnected each connection: read them
  // with the function returned.
  std::function<std::vector<std::string>()> RecordDisconnects() {
    auto log =
        std::make_shared<std::pair<std::mutex, std::vector<std::string>>>();
    service_.on_disconnect = [log](std::string_view r) {
      std::lock_guard lock(log->first);
      log->second.emplace_back(r);
    };
    return [log] {
      std::lock_guard lock(log->first);
      return log->second;
    };
  }

  // A raw subscriber of "doc" that stopped reading while more changes
  // streamed in than the kernel can buffer between the two sockets: its
  // queue passed the limit and the server began to close it with 4508,
  // a close frame that waits behind the write the stalled client holds
  // up. Returns its socket (-1 on failure); `in` gets what was read.
  int StalledSubscriber(std::string* in) {
    service_.max_message_bytes = 1024 * 1024;
    service_.limits.submits_per_second = 1e6;  // over a thousand submits
    auto writer = Join("alice");
    service_.max_outbound_bytes = 64 * 1024;  // for the connection below
    // Capped, so that what sits between the sockets does not depend on how
    // far the host lets a receive buffer grow (big enough to read it back
    // at loopback speed: a few KB took minutes).
    const int rcvbuf = 256 * 1024;
    int fd = RawSubscriber(server_->port(), 15, rcvbuf, in);
    if (fd < 0) return fd;
    // The most the server's send buffer can grow to (tcp_wmem), this
    // socket's receive buffer (the kernel doubles what is asked) and 2 MiB
    // more.
    std::uint64_t wmem_max = 4u << 20;
    if (FILE* f = std::fopen("/proc/sys/net/ipv4/tcp_wmem", "r")) {
      std::uint64_t min = 0, def = 0;
      if (std::fscanf(f, "%" SCNu64 " %" SCNu64 " %" SCNu64, &min, &def,
                      &wmem_max) != 3) {
        wmem_max = 4u << 20;
      }
      std::fclose(f);
    }
    const std::uint64_t total =
        wmem_max + 2 * static_cast<std::uint64_t>(rcvbuf) + (2u << 20);
    const std::string big(30000, 'x');  // one frame each, under 64 KiB
    for (std::uint64_t i = 0; i < total / big.size() + 1; ++i) {
      bool acked = writer->Send(proto::Submit{"doc", {{7, i, 1, big}}}).ok() &&
                   writer->ReceiveUntil<proto::Ack>(kWait).ok();
      EXPECT_TRUE(acked) << "change " << i;
      if (!acked) break;
    }
    return fd;
  }

  // A raw subscriber (bob) of "doc" that sets a presence: those already
  // subscribed are shown it next.
  int ShownRawSubscriber(std::string* in) {
    return RawSubscriber(
        server_->port(), 15, 1 << 20, in,
        ClientFrame(0x82, proto::Encode(proto::Presence{"doc", "{}"})));
  }

  // Waits until a request to the server gets an answer again.
  void ExpectServerAlive() {
    auto c = SyncClient::Connect("127.0.0.1", server_->port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Send(proto::Hello{1, "alice", ""}).ok());
    EXPECT_TRUE((*c)->ReceiveUntil<proto::Welcome>(kWait).ok());
  }

  // Routes a derived fixture adds before the server starts.
  virtual void AddRoutes() {}
  unsigned threads_ = 2;  // I/O threads

  MemoryDocumentLog doc_log_;
  testing::ListModelFactory models_;
  // Presence of a silent session goes after 4 s instead of 30.
  static HubConfig ShortPresenceTimeout() {
    HubConfig c;
    c.presence_timeout = 4s;
    return c;
  }
  DocumentHub hub_{doc_log_, models_, ShortPresenceTimeout()};
  testing::TokenTable tokens_;
  testing::RoleTable roles_;
  ConnectionRegistry registry_;
  SyncService service_{hub_, tokens_, roles_, registry_};
  ServerConfig config_;
  Router router_;
  MetricsRegistry metrics_;
  JsonLog log_{stderr};
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

// Reads until `changes` changes arrived in `ops` frames; returns their
// updates in order and checks the seqs are gapless from 1.
std::vector<std::string> ReadChanges(SyncClient& c, std::size_t changes,
                                     int* acks) {
  std::vector<std::string> seen;
  std::uint64_t next = 1;
  while (seen.size() < changes) {
    auto m = c.Receive(kWait);
    if (!m.ok()) {
      ADD_FAILURE() << m.status().ToString();
      break;
    }
    if (std::holds_alternative<proto::Ack>(*m)) ++*acks;
    if (auto* ops = std::get_if<proto::Ops>(&*m)) {
      EXPECT_EQ(ops->first_seq, next);
      for (auto& ch : ops->changes) seen.push_back(ch.update);
      next += ops->changes.size();
    }
  }
  return seen;
}

TEST_F(SyncWsTest, TwoClientsSeeEachOthersChangesInOneOrder) {
  auto a = Join("alice");
  auto b = Join("bob");
  ASSERT_TRUE(a->Send(proto::Submit{"doc", {{1, 0, 1, "a0"}}}).ok());
  ASSERT_TRUE(b->Send(proto::Submit{"doc", {{2, 0, 1, "b0"}}}).ok());
  ASSERT_TRUE(a->Send(proto::Submit{"doc", {{1, 1, 1, "a1"}}}).ok());
  int acks_a = 0, acks_b = 0;
  auto seen_a = ReadChanges(*a, 3, &acks_a);
  auto seen_b = ReadChanges(*b, 3, &acks_b);
  EXPECT_EQ(acks_a, 2);
  EXPECT_EQ(acks_b, 1);
  ASSERT_EQ(seen_a.size(), 3u);
  EXPECT_EQ(seen_a, seen_b);
  EXPECT_EQ(*hub_.ContentJson("doc"), "[\"" + seen_a[0] + "\",\"" + seen_a[1] +
                                          "\",\"" + seen_a[2] + "\"]");
}

TEST_F(SyncWsTest, ResumeAfterReconnectLosesAndDuplicatesNothing) {
  auto a = Join("alice");
  for (std::uint64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        a->Send(proto::Submit{"doc", {{1, i, 1, "x" + std::to_string(i)}}})
            .ok());
    ASSERT_TRUE(a->ReceiveUntil<proto::Ack>(kWait).ok());
  }
  a->Close();
  // Resubmitting an acknowledged change (a lost ack) is idempotent.
  auto again = Join("alice", /*since=*/2);
  ASSERT_TRUE(again->Send(proto::Submit{"doc", {{1, 2, 1, "x2"}}}).ok());
  auto ack = again->ReceiveUntil<proto::Ack>(kWait);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->entries.at(0).server_seq, 3u);
  EXPECT_EQ(doc_log_.EntryCount("doc"), 3u);
  // A client that saw seq 1 gets exactly 2 and 3.
  auto b = Open("bob");
  ASSERT_TRUE(b->Send(proto::Subscribe{"doc", 1}).ok());
  auto ops = b->ReceiveUntil<proto::Ops>(kWait);
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(ops->first_seq, 2u);
  ASSERT_EQ(ops->changes.size(), 2u);
  EXPECT_EQ(ops->changes[1].update, "x2");
}

TEST_F(SyncWsTest, ViewerSubmissionIsRefused) {
  auto v = Join("vera");
  ASSERT_TRUE(v->Send(proto::Submit{"doc", {{9, 0, 1, "x"}}}).ok());
  auto e = v->ReceiveUntil<proto::Error>(kWait);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->code, 403u);
  EXPECT_EQ(doc_log_.EntryCount("doc"), 0u);
}

TEST_F(SyncWsTest, MalformedFrameClosesWith4400AndServerSurvives) {
  auto a = Open("alice");
  ASSERT_TRUE(a->SendRaw(std::string("\x05\x03"
                                     "doc\x09",
                                     6))
                  .ok());  // truncated submit
  auto e = a->ReceiveUntil<proto::Error>(kWait);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->code, 400u);
  EXPECT_FALSE(a->ReceiveUntil<proto::Pong>(kWait).ok());
  EXPECT_EQ(a->close_code(), 4400);
  ExpectServerAlive();
}

TEST_F(SyncWsTest, TextFrameClosesWith4400) {
  auto a = Open("alice");
  ASSERT_TRUE(a->SendRaw("{\"hello\":1}", /*text=*/true).ok());
  EXPECT_FALSE(a->ReceiveUntil<proto::Pong>(kWait).ok());
  EXPECT_EQ(a->close_code(), 4400);
}

TEST_F(SyncWsTest, OversizedMessageClosesWith1009AndServerSurvives) {
  auto a = Open("alice");
  // The server may close before the client has written every byte, so the
  // send itself may fail; what follows is what counts.
  Status sent = a->Send(proto::Presence{"doc", std::string(100 * 1024, 'x')});
  (void)sent;
  EXPECT_FALSE(a->ReceiveUntil<proto::Pong>(kWait).ok());
  EXPECT_FALSE(a->is_open());
  // The server sends close 1009 and drops the connection at once; with the
  // rest of the oversized message still unread, the client's kernel may
  // see a reset that discards the close frame, so either outcome counts.
  if (a->close_code()) {
    EXPECT_EQ(*a->close_code(), 1009);
  }
  ExpectServerAlive();
}

TEST_F(SyncWsTest, BadTokenClosesWith4401) {
  auto c = SyncClient::Connect("127.0.0.1", server_->port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Send(proto::Hello{1, "forged", ""}).ok());
  EXPECT_FALSE((*c)->ReceiveUntil<proto::Welcome>(kWait).ok());
  EXPECT_EQ((*c)->close_code(), 4401);
}

TEST_F(SyncWsTest, LiveRemovalReachesTheSessionWithinASecond) {
  auto b = Join("bob");
  roles_.Remove("bob", "doc");
  auto start = std::chrono::steady_clock::now();
  registry_.AccessChanged("bob");
  auto u = b->ReceiveUntil<proto::Unsubscribed>(1s);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->code, 410u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

// The opening handshake by hand (RFC 6455's own example key). Returns the
// socket (reads time out after `timeout_s`), the server's handshake answer
// in `*head` and whatever it already sent after it in `*rest`.
int RawUpgrade(std::uint16_t port, int timeout_s, std::string* head,
               std::string* rest, const std::string& extra_headers = "") {
  int fd = weft::testing::ConnectLoopback(port, timeout_s);
  if (fd < 0) return -1;
  std::string upgrade =
      "GET /api/v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n" +
      extra_headers + "\r\n";
  ::send(fd, upgrade.data(), upgrade.size(), MSG_NOSIGNAL);
  std::string in;
  char buf[4096];
  ssize_t n;
  while (in.find("\r\n\r\n") == std::string::npos &&
         (n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
    in.append(buf, static_cast<std::size_t>(n));
  }
  auto end = in.find("\r\n\r\n");
  *head = in.substr(0, end);
  *rest = end == std::string::npos ? "" : in.substr(end + 4);
  return fd;
}

// RawUpgrade, then `bytes`; returns everything the server sends after its
// handshake answer until it closes the connection.
std::string RawSession(std::uint16_t port, const std::string& bytes,
                       std::string* head) {
  std::string out;
  int fd = RawUpgrade(port, 10, head, &out);
  if (fd < 0) return "";
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  weft::testing::ReadUntilClosed(fd, &out);
  return out;
}

// A server frame (unmasked, unfragmented, under 64 KiB).
struct ServerFrame {
  std::uint8_t opcode;
  std::string payload;
};

// Takes the whole frames at the front of `*in` off it.
std::vector<ServerFrame> TakeServerFrames(std::string* in) {
  std::vector<ServerFrame> frames;
  std::size_t at = 0;
  auto b = [&](std::size_t i) { return static_cast<std::uint8_t>((*in)[i]); };
  while (at + 2 <= in->size()) {
    std::size_t len = b(at + 1) & 0x7F, hdr = 2;
    if (len == 126) {
      if (at + 4 > in->size()) break;
      len = (std::size_t{b(at + 2)} << 8) | b(at + 3);
      hdr = 4;
    } else if (len == 127) {
      if (at + 10 > in->size()) break;
      len = 0;
      for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | b(at + i);
      hdr = 10;
    }
    if (at + hdr + len > in->size()) break;
    frames.push_back(ServerFrame{static_cast<std::uint8_t>(b(at) & 0x0F),
                                 in->substr(at + hdr, len)});
    at += hdr + len;
  }
  in->erase(0, at);
  return frames;
}

// Hands each server frame on `fd` (after those already in `*in`) to
// `until` until it returns true; false when the socket ends first.
template <typename Until>
bool ReadServerFramesUntil(int fd, std::string* in, Until until) {
  char buf[4096];
  for (;;) {
    for (const ServerFrame& f : TakeServerFrames(in)) {
      if (until(f)) return true;
    }
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    in->append(buf, static_cast<std::size_t>(n));
  }
}

// The code of a close frame's payload.
std::uint16_t CloseCode(const std::string& payload) {
  if (payload.size() < 2) return 0;
  return static_cast<std::uint16_t>(
      (static_cast<std::uint8_t>(payload[0]) << 8) |
      static_cast<std::uint8_t>(payload[1]));
}

TEST_F(SyncWsTest, AFramingViolationClosesWith1002AndTheServerSurvives) {
  std::string head;
  // An unmasked frame: clients must mask every frame.
  auto start = std::chrono::steady_clock::now();
  std::string out =
      RawSession(server_->port(), std::string("\x82\x01x", 3), &head);
  EXPECT_NE(head.find("HTTP/1.1 101"), std::string::npos) << head;
  // RFC 6455 §1.3's worked example of the accept value.
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            std::string::npos)
      << head;
  // The close frame with 1002, then the server closes TCP at once (well
  // before its 5 s wait for a client's close answer).
  ASSERT_GE(out.size(), 4u);
  EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x88);
  EXPECT_EQ((static_cast<std::uint8_t>(out[2]) << 8) |
                static_cast<std::uint8_t>(out[3]),
            1002);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  ExpectServerAlive();
}

// One masked client frame carrying `payload`.
std::string ClientFrame(std::uint8_t first_byte, const std::string& payload) {
  std::string f(1, static_cast<char>(first_byte));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() < 65536) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      f.push_back(static_cast<char>((payload.size() >> shift) & 0xFF));
    }
  }
  const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  f.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  }
  return f;
}

// A raw connection with its receive buffer capped at `rcvbuf` (before
// anything arrives, so the kernel does not grow it) that says hello as bob,
// subscribes to "doc" and sends `more`; -1 if the upgrade failed.
int RawSubscriber(std::uint16_t port, int timeout_s, int rcvbuf,
                  std::string* in, const std::string& more) {
  std::string head;
  int fd = RawUpgrade(port, timeout_s, &head, in);
  if (fd < 0) return -1;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  std::string hello =
      ClientFrame(0x82, proto::Encode(proto::Hello{1, "bob", "raw"})) +
      ClientFrame(0x82, proto::Encode(proto::Subscribe{"doc", 0})) + more;
  ::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL);
  return fd;
}

TEST_F(SyncWsTest, NothingAClientSendsAfterTheServerClosesIsActedOn) {
  // In one burst: hello, subscribe, a text frame (a protocol error: close
  // 4400), then a submit the server must not apply.
  std::string burst =
      ClientFrame(0x82, proto::Encode(proto::Hello{1, "alice", "raw"})) +
      ClientFrame(0x82, proto::Encode(proto::Subscribe{"doc", 0})) +
      ClientFrame(0x81, "text") +
      ClientFrame(0x82, proto::Encode(proto::Submit{
                            "doc", {proto::Change{9, 0, 1, "late"}}}));
  std::string head;
  std::string out = RawSession(server_->port(), burst, &head);
  EXPECT_NE(head.find("HTTP/1.1 101"), std::string::npos) << head;
  // The server's frames: the last is the close, 4400.
  std::uint16_t close_code = 0;
  for (const ServerFrame& f : TakeServerFrames(&out)) {
    if (f.opcode == 0x8) close_code = CloseCode(f.payload);
  }
  EXPECT_EQ(close_code, 4400);
  auto content = hub_.ContentJson("doc");
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  EXPECT_EQ(*content, "[]");
}

TEST_F(SyncWsTest, ASessionTheServerClosesLosesItsPresenceAtOnce) {
  // Bob's raw session shows its presence, then sends a text frame: the
  // server closes it with 4400. Bob never answers the close frame, so the
  // socket lasts until the close timeout (5 s; up to the idle timeout for
  // a slow consumer), but his presence goes at once.
  auto watcher = Join("alice");
  std::string in;
  int fd = ShownRawSubscriber(&in);
  ASSERT_GE(fd, 0);
  auto shown = watcher->ReceiveUntil<proto::PresenceOf>(kWait);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  std::string text = ClientFrame(0x81, "text");
  ASSERT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(text.size()));
  auto gone = watcher->ReceiveUntil<proto::PresenceGone>(2s);
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(gone->session_id, shown->session_id);
  std::uint16_t close_code = 0;
  ReadServerFramesUntil(fd, &in, [&](const ServerFrame& f) {
    if (f.opcode != 0x8) return false;
    close_code = CloseCode(f.payload);
    return true;
  });
  ::close(fd);
  EXPECT_EQ(close_code, 4400);
}

TEST_F(SyncWsTest, APingFloodIsAnsweredWithTheLatestPongOnly) {
  // A thousand pings in one burst: while the first pong is being written,
  // each later one replaces the pong that waits (RFC 6455 §5.5.3), so a
  // client flooding pings cannot grow the server's queue.
  std::string burst;
  for (int i = 0; i < 1000; ++i) {
    char payload[16];
    std::snprintf(payload, sizeof(payload), "ping%04d", i);
    burst += ClientFrame(0x89, payload);
  }
  std::string head, in;
  int fd = RawUpgrade(server_->port(), 5, &head, &in);
  ASSERT_GE(fd, 0);
  ::send(fd, burst.data(), burst.size(), MSG_NOSIGNAL);
  int pongs = 0;
  std::string last;
  ReadServerFramesUntil(fd, &in, [&](const ServerFrame& f) {
    if (f.opcode != 0xA) return false;
    ++pongs;
    last = f.payload;
    return last == "ping0999";
  });
  ::close(fd);
  EXPECT_EQ(last, "ping0999");
  EXPECT_LT(pongs, 100);  // one per ping would be 1,000
  ExpectServerAlive();
}

TEST_F(SyncWsTest, APeriodicStoreCallThatHangsDoesNotStopTheServer) {
  // weftd's poll reads the access change feed from the store, which can
  // block for as long as a database takes to answer. Meanwhile the server
  // must still accept connections and answer them.
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> polls{0};
  SyncService service{hub_, tokens_, roles_, registry_};
  service.poll_interval = 10ms;
  service.poll = [&] {
    ++polls;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
  };
  HttpServer server(config_, router_, log_, metrics_, &service);
  ASSERT_TRUE(server.Listen().ok());
  std::thread run([&] { server.Run(); });
  // Released and stopped however the test ends.
  struct Finish {
    std::function<void()> f;
    ~Finish() { f(); }
  } finish{[&] {
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
    server.Stop();
    run.join();
  }};
  for (int i = 0; i < 1000 && polls.load() == 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(polls.load(), 1);  // hanging
  auto c = SyncClient::Connect("127.0.0.1", server.port());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Send(proto::Hello{1, "alice", "test"}).ok());
  EXPECT_TRUE((*c)->ReceiveUntil<proto::Welcome>(kWait).ok());
  EXPECT_EQ(weft::testing::HttpCall(server.port(), "GET", "/livez").status,
            200);
  c->reset();
}

TEST_F(SyncWsTest, TinyFramesCountWhatTheyCostAgainstTheOutboundLimit) {
  // A million application pings, never reading. Their pongs are ~6 MB on
  // the wire, of which the kernel buffers up to ~4 MB (tcp_wmem), so at
  // most ~4 MB of payload waits in the server's queue: under the 8 MiB
  // limit. But each queued frame costs far more memory than its few
  // bytes; counted by payload alone, such a client held ~120 bytes of
  // server memory per 8-byte ping, without bound.
  // The pings go out in large writes: sent one by one they took over 5 s
  // on a busy machine.
  std::string burst =
      ClientFrame(0x82, proto::Encode(proto::Hello{1, "alice", "raw"}));
  for (std::uint64_t i = 0; i < 1000000; ++i) {
    burst += ClientFrame(0x82, proto::Encode(proto::Ping{i}));
  }
  std::string head, in;
  int fd = RawUpgrade(server_->port(), 15, &head, &in);
  ASSERT_GE(fd, 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  for (std::size_t sent = 0; sent < burst.size();) {
    ssize_t n = ::send(fd, burst.data() + sent,
                       std::min<std::size_t>(burst.size() - sent, 1 << 20),
                       MSG_NOSIGNAL);
    if (n <= 0) break;  // closed meanwhile
    sent += static_cast<std::size_t>(n);
  }
  std::uint16_t close_code = 0;
  ReadServerFramesUntil(fd, &in, [&](const ServerFrame& f) {
    if (f.opcode != 0x8) return false;
    close_code = CloseCode(f.payload);
    return true;
  });
  ::close(fd);
  EXPECT_EQ(close_code, 4508);
  ExpectServerAlive();
}

TEST_F(SyncWsTest, ASlowConsumerThatReadsAgainLaterStillLearnsWhyItWasClosed) {
  // A subscriber stops reading while more changes stream in than the
  // kernel can buffer between the two sockets: beyond that its queue
  // passes the limit and the server closes it with 4508. That close frame waits
  // behind the write the stalled client holds up. The client reads again after
  // 7 s, longer than the 5 s the server waits for a written close frame's
  // answer: it must still find the 4508, not a connection that just ends (the
  // server used to give up on the close frame after 5 s).
  std::string in;
  int fd = StalledSubscriber(&in);
  ASSERT_GE(fd, 0);
  std::this_thread::sleep_for(7s);
  std::uint16_t close_code = 0;
  std::size_t frames = 0;
  ReadServerFramesUntil(fd, &in, [&](const ServerFrame& f) {
    ++frames;
    if (f.opcode != 0x8) return false;
    close_code = CloseCode(f.payload);
    return true;
  });
  ::close(fd);
  EXPECT_EQ(close_code, 4508) << "after " << frames << " frames";
  ExpectServerAlive();
}

TEST_F(SyncWsTest, AFrameOverTheLimitBehindASmallOneIsSentNotClosed) {
  // A subscriber whose socket is full (it reads later) has a few small
  // changes waiting, well under the limit, when one change larger than
  // the limit arrives. A single frame may exceed the limit: it is queued
  // and sent. Counting it with what waited closed a healthy client (a
  // large offline edit reaching a peer while an ack waited) with 4508.
  service_.max_message_bytes = 1024 * 1024;
  service_.limits.submits_per_second = 1e6;
  auto writer = Join("alice");
  service_.max_outbound_bytes = 64 * 1024;  // for the connection below
  std::string in;
  int fd = RawSubscriber(server_->port(), 15, 64 * 1024, &in);
  ASSERT_GE(fd, 0);
  const std::string small(4000, 's');
  // Small changes until some wait in the server's queue for good: the
  // kernel holds no more between the sockets.
  std::uint64_t n = 0;
  auto queued_for = [&](std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
      if (service_.outbound_bytes.load() <= 0) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  };
  for (; n < 20000; ++n) {
    ASSERT_TRUE(writer->Send(proto::Submit{"doc", {{7, n, 1, small}}}).ok());
    ASSERT_TRUE(writer->ReceiveUntil<proto::Ack>(kWait).ok()) << n;
    if (service_.outbound_bytes.load() > 0 && queued_for(200ms)) break;
  }
  ASSERT_LT(n, 20000u) << "the subscriber's socket never filled";
  EXPECT_LT(service_.outbound_bytes.load(), 32 * 1024);
  const std::string big(200 * 1024, 'B');  // over the 64 KiB limit
  ASSERT_TRUE(writer->Send(proto::Submit{"doc", {{7, ++n, 1, big}}}).ok());
  ASSERT_TRUE(writer->ReceiveUntil<proto::Ack>(kWait).ok());
  // The subscriber reads again: every change arrives, the large one last,
  // and no close frame.
  std::uint16_t close_code = 0;
  std::uint64_t changes = 0;
  bool got_big = ReadServerFramesUntil(fd, &in, [&](const ServerFrame& f) {
    if (f.opcode == 0x8) {
      close_code = CloseCode(f.payload);
      return true;
    }
    if (f.opcode != 0x2) return false;
    auto m = proto::Decode(f.payload);
    auto* ops = m.ok() ? std::get_if<proto::Ops>(&*m) : nullptr;
    if (ops == nullptr) return false;
    for (const auto& ch : ops->changes) {
      ++changes;
      if (ch.update == big) return true;
    }
    return false;
  });
  ::close(fd);
  EXPECT_TRUE(got_big);
  EXPECT_EQ(close_code, 0);
  EXPECT_EQ(changes, n + 1);
}

// Shutdown does not wait out a slow consumer's close (up to the idle
// timeout, 60 s here): the connection goes within the usual close
// timeout, inside the grace period (10 s), so the server stops cleanly.
// Before, the grace period cut it off, and its disconnect was never
// counted.
TEST_F(SyncWsTest, ShutdownDoesNotWaitOutASlowConsumersClose) {
  auto reasons = RecordDisconnects();
  std::string in;
  int fd = StalledSubscriber(&in);
  ASSERT_GE(fd, 0);
  server_->Stop();
  thread_.join();                // Run returns once every connection is gone
  thread_ = std::thread([] {});  // for TearDown
  ::close(fd);
  auto why = reasons();
  EXPECT_NE(std::find(why.begin(), why.end(), "slow_consumer"), why.end())
      << ::testing::PrintToString(why);
}

TEST_F(SyncWsTest, AClientTakingALongCatchUpIsNotClosedAsIdle) {
  // A catch-up of two `ops` frames (1,000 changes, then 200) of 10 KB
  // changes: while the first, ~10 MB, is written to a client that reads
  // ~3 MB/s, the second keeps more than the outbound limit of catch-up
  // waiting, so the server reads nothing of this client (its ping waits).
  // The idle timeout (1 s here) must not close a client that takes its
  // catch-up: it did, every time, so it could never catch up.
  service_.idle_timeout = 1s;
  service_.max_message_bytes = 1024 * 1024;
  {
    auto writer = Join("alice");
    const std::string big(10000, 'x');
    for (std::uint64_t first = 0; first < 1200; first += 100) {
      proto::Submit submit{"doc", {}};
      for (std::uint64_t i = first; i < first + 100; ++i) {
        submit.changes.push_back({7, i, 1, big});
      }
      ASSERT_TRUE(writer->Send(submit).ok());
      ASSERT_TRUE(writer->ReceiveUntil<proto::Ack>(kWait).ok());
    }
  }
  service_.max_outbound_bytes = 64 * 1024;  // for the connection below
  std::string in;
  int fd = RawSubscriber(server_->port(), 5, 16 * 1024, &in,
                         ClientFrame(0x82, proto::Encode(proto::Ping{42})));
  ASSERT_GE(fd, 0);
  std::size_t total = in.size();
  std::size_t since_pause = 0;
  char buf[4096];
  while (total < 1200 * 10000) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;  // closed
    total += static_cast<std::size_t>(n);
    since_pause += static_cast<std::size_t>(n);
    if (since_pause >= 16 * 1024) {  // ~16 KB per 5 ms
      std::this_thread::sleep_for(5ms);
      since_pause = 0;
    }
  }
  ::close(fd);
  EXPECT_GE(total, 1200u * 10000u) << "closed after " << total << " bytes";
}

// Messages read while a catch-up over the outbound limit waits are handled
// in the order read once it drained, a text frame's protocol error
// included: the ping before the text frame is answered, then the
// connection closes with 4400, and the ping after it is not answered.
TEST_F(SyncWsTest, MessagesReadBehindACatchUpAreAnsweredInOrderTextIncluded) {
  service_.max_message_bytes = 2 * 1024 * 1024;
  auto writer = Join("alice");  // keeps the document loaded
  proto::Submit submit{"doc", {}};
  const std::string big(10000, 'x');
  for (std::uint64_t i = 0; i < 100; ++i)
    submit.changes.push_back({7, i, 1, big});
  ASSERT_TRUE(writer->Send(submit).ok());
  ASSERT_TRUE(writer->ReceiveUntil<proto::Ack>(kWait).ok());
  service_.max_outbound_bytes = 64 * 1024;  // ~1 MB of catch-up is over it
  std::string in;
  int fd = RawSubscriber(server_->port(), 10, 256 * 1024, &in,
                         ClientFrame(0x82, proto::Encode(proto::Ping{42})) +
                             ClientFrame(0x81, "text") +
                             ClientFrame(0x82, proto::Encode(proto::Ping{43})));
  ASSERT_GE(fd, 0);
  std::vector<std::string> seen;
  ReadServerFramesUntil(fd, &in, [&](const ServerFrame& f) {
    if (f.opcode == 0x8) {
      seen.push_back("close " + std::to_string(CloseCode(f.payload)));
      return true;
    }
    auto m = proto::Decode(f.payload);
    if (m.ok() && std::holds_alternative<proto::Pong>(*m)) {
      seen.push_back("pong " + std::to_string(std::get<proto::Pong>(*m).nonce));
    }
    return false;
  });
  ::close(fd);
  EXPECT_EQ(seen, (std::vector<std::string>{"pong 42", "close 4400"}));
}

TEST_F(SyncWsTest, AClientThatNeverAnswersACloseIsDisconnectedByTheTimeout) {
  service_.idle_timeout = 600s;  // only the close timeout can end it
  std::string head, in;
  int fd = RawUpgrade(server_->port(), 20, &head, &in);
  ASSERT_GE(fd, 0);
  // A text frame is a protocol error: the server closes with 4400 and
  // waits for the client's close frame, which never comes.
  std::string bytes =
      ClientFrame(0x82, proto::Encode(proto::Hello{1, "alice", "raw"})) +
      ClientFrame(0x81, "text");
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::uint16_t close_code = 0;
  ReadServerFramesUntil(fd, &in, [&](const ServerFrame& f) {
    if (f.opcode == 0x8) close_code = CloseCode(f.payload);
    return close_code != 0;
  });
  EXPECT_EQ(close_code, 4400);
  // Then the server closes TCP (end of stream: 0), well before this
  // socket's 20 s receive timeout (-1) or the idle timeout.
  std::string rest;
  long n = weft::testing::ReadUntilClosed(fd, &rest);
  EXPECT_EQ(n, 0);
}

TEST_F(SyncWsTest, AnUpgradeWithAnotherVersionGets426) {
  std::string reply = weft::testing::RawExchange(
      server_->port(),
      "GET /api/v1/sync HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 8\r\n\r\n");
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 426") << reply;
  EXPECT_NE(reply.find("Sec-WebSocket-Version: 13"), std::string::npos);
  EXPECT_NE(reply.find("bad_upgrade"), std::string::npos);
  std::string bad_key = weft::testing::RawExchange(
      server_->port(),
      "GET /api/v1/sync HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: short\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_EQ(bad_key.substr(0, 12), "HTTP/1.1 400") << bad_key;
}

// The subprotocol is selected only when offered as a whole token.
TEST_F(SyncWsTest, TheSubprotocolIsSelectedOnlyWhenOfferedExactly) {
  for (const auto& [offer, selected] :
       std::vector<std::pair<std::string, bool>>{{"chat, weft.v1", true},
                                                 {"weft.v10", false},
                                                 {"xweft.v1, chat", false},
                                                 {" weft.v1 ", true}}) {
    std::string head, rest;
    int fd = RawUpgrade(server_->port(), 10, &head, &rest,
                        "Sec-WebSocket-Protocol: " + offer + "\r\n");
    ASSERT_GE(fd, 0);
    EXPECT_NE(head.find("HTTP/1.1 101"), std::string::npos) << head;
    EXPECT_EQ(head.find("Sec-WebSocket-Protocol: weft.v1") != std::string::npos,
              selected)
        << offer << "\n"
        << head;
    ::close(fd);
  }
}

// Bytes of a frame that never ends are no sign of life: a client that
// trickles one is closed at the idle timeout like a silent one.
TEST_F(SyncWsTest, AClientTricklingAnUnfinishedFrameIsClosedAsIdle) {
  service_.idle_timeout = 2s;
  auto reasons = RecordDisconnects();
  std::string head, in;
  int fd = RawUpgrade(server_->port(), 10, &head, &in);
  ASSERT_GE(fd, 0);
  std::string hello =
      ClientFrame(0x82, proto::Encode(proto::Hello{1, "bob", "raw"}));
  ::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL);
  // A 1000-byte binary frame: its header and mask, then a byte at a time.
  std::string frame = ClientFrame(0x82, std::string(1000, 'x'));
  ::send(fd, frame.data(), 8, MSG_NOSIGNAL);
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  for (std::size_t i = 8; i < frame.size() && !closed &&
                          std::chrono::steady_clock::now() - start < 8s;
       ++i) {
    if (::send(fd, frame.data() + i, 1, MSG_NOSIGNAL) < 0) closed = true;
    std::this_thread::sleep_for(200ms);
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      closed = true;  // the server closed the socket
    }
  }
  ::close(fd);
  EXPECT_TRUE(closed) << "still open after "
                      << std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::steady_clock::now() - start)
                             .count()
                      << " s of trickling";
  EXPECT_EQ(reasons(), (std::vector<std::string>{"idle_timeout"}));
}

// A large message on a slow uplink is alive while it moves: a browser
// cannot answer a ping in the middle of it. Its sender's presence stays
// too (it went after the presence timeout, 4 s here: the bytes counted
// for the idle timeout only).
TEST_F(SyncWsTest, ALargeMessageArrivingSlowlyIsNotIdle) {
  service_.idle_timeout = 2s;
  service_.max_message_bytes = 1024 * 1024;
  auto reasons = RecordDisconnects();
  auto watcher = Join("alice");
  std::string in;
  int fd = ShownRawSubscriber(&in);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(watcher->ReceiveUntil<proto::PresenceOf>(kWait).ok());
  std::string frame =
      ClientFrame(0x82, proto::Encode(proto::Submit{
                            "doc", {{7, 0, 1, std::string(100 * 1024, 'y')}}}));
  // 20 KiB every 1.1 s: the whole frame takes longer than both timeouts.
  for (std::size_t at = 0; at < frame.size(); at += 20 * 1024) {
    std::size_t n = std::min<std::size_t>(20 * 1024, frame.size() - at);
    ASSERT_EQ(::send(fd, frame.data() + at, n, MSG_NOSIGNAL),
              static_cast<ssize_t>(n));
    auto until = std::chrono::steady_clock::now() + 1100ms;
    while (std::chrono::steady_clock::now() < until) {
      auto m = watcher->Receive(50ms);
      if (m.ok()) {
        EXPECT_FALSE(std::holds_alternative<proto::PresenceGone>(*m))
            << "presence lost while the client's message was arriving";
      }
    }
  }
  // Answered (acknowledged), not closed.
  bool answered = false;
  auto until = std::chrono::steady_clock::now() + kWait;
  while (!answered && std::chrono::steady_clock::now() < until) {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) break;
    if (n > 0) in.append(buf, static_cast<std::size_t>(n));
    for (const auto& f : TakeServerFrames(&in)) {
      if (f.opcode != 0x2) continue;
      auto m = proto::Decode(f.payload);
      answered |= m.ok() && std::holds_alternative<proto::Ack>(*m);
    }
    if (!answered) std::this_thread::sleep_for(20ms);
  }
  ::close(fd);
  EXPECT_TRUE(answered);
  // However the close after the test is counted, it was not idleness.
  for (const auto& r : reasons()) EXPECT_NE(r, "idle_timeout");
}

TEST_F(SyncWsTest, KeepAlivePingsKeepAnAnsweringClientOpen) {
  service_.idle_timeout = 2s;
  auto a = Join("alice");
  // The client sends nothing for twice the idle timeout; its WebSocket
  // layer answers the server's pings while it waits for messages.
  auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) {
    EXPECT_FALSE(a->Receive(200ms).ok());  // nothing to read: a timeout
    ASSERT_TRUE(a->is_open());
  }
  ASSERT_TRUE(a->Send(proto::Ping{7}).ok());
  auto pong = a->ReceiveUntil<proto::Pong>(kWait);
  ASSERT_TRUE(pong.ok()) << pong.status().ToString();
  EXPECT_EQ(pong->nonce, 7u);
}

TEST_F(SyncWsTest, AClientThatAnswersKeepAlivePingsKeepsItsPresence) {
  // Presence goes after 4 s of silence (the fixture's hub), the socket
  // after 8. The server's keep-alive ping must come early enough that a
  // client answering it is never silent for the presence timeout: it
  // pinged only after half the idle timeout (4 s here, 30 of 60 s by
  // default), as the presence timed out.
  service_.idle_timeout = 8s;
  auto a = Join("alice");
  auto b = Join("bob");
  ASSERT_TRUE(a->Send(proto::Presence{"doc", R"({"name":"A"})"}).ok());
  ASSERT_TRUE(b->ReceiveUntil<proto::PresenceOf>(kWait).ok());
  // Alice sends nothing for 7 s; her WebSocket layer answers pings while
  // she waits for messages.
  auto until = std::chrono::steady_clock::now() + 7s;
  while (std::chrono::steady_clock::now() < until) {
    (void)a->Receive(100ms);
    auto m = b->Receive(100ms);
    if (m.ok()) {
      EXPECT_FALSE(std::holds_alternative<proto::PresenceGone>(*m))
          << "presence lost although the client answered every ping";
    }
  }
  EXPECT_TRUE(a->is_open());
}

TEST_F(SyncWsTest, ASilentClientIsClosedAfterTheIdleTimeout) {
  service_.idle_timeout = 2s;
  auto reasons = RecordDisconnects();
  auto a = Join("alice");
  // Nothing runs the client: the server's pings go unanswered.
  std::this_thread::sleep_for(4s);
  // The server dropped the connection: the read ends with the connection,
  // not with its own timeout (which an open connection would reach).
  auto r = a->ReceiveUntil<proto::Pong>(kWait);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message(), "timeout") << r.status().ToString();
  EXPECT_FALSE(a->is_open());
  EXPECT_EQ(reasons(), (std::vector<std::string>{"idle_timeout"}));
}

TEST_F(SyncWsTest, ShutdownClosesSyncConnectionsWith1001) {
  auto a = Join("alice");
  server_->Stop();
  EXPECT_FALSE(a->ReceiveUntil<proto::Pong>(kWait).ok());
  EXPECT_EQ(a->close_code(), 1001);
}

// A change the server read before shutdown began is acknowledged before
// the close frame once durable: the client need not send it again.
TEST_F(SyncWsTest, ShutdownSendsTheAcksOfAppendsOnTheirWayFirst) {
  auto a = Join("alice");
  doc_log_.HoldAppends(true);
  ASSERT_TRUE(a->Send(proto::Submit{"doc", {{1, 0, 1, "x"}}}).ok());
  auto until = std::chrono::steady_clock::now() + kWait;
  while (!hub_.AnyAppendInFlight() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(hub_.AnyAppendInFlight());
  server_->Stop();
  std::this_thread::sleep_for(300ms);  // shutdown waits for the append
  doc_log_.HoldAppends(false);
  auto ack = a->ReceiveUntil<proto::Ack>(kWait);
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_EQ(ack->entries.at(0).server_seq, 1u);
  EXPECT_FALSE(a->ReceiveUntil<proto::Pong>(kWait).ok());
  EXPECT_EQ(a->close_code(), 1001);
}

// A message being handled when shutdown begins (here a subscribe waiting
// for the store's answer about the role) is answered before the close:
// the drain waits until no connection is handling one.
TEST_F(SyncWsTest, ShutdownWaitsForAMessageBeingHandled) {
  auto a = Open("alice");
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  roles_.BeforeNextRoleFor([&] {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  ASSERT_TRUE(a->Send(proto::Subscribe{"doc", 0}).ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return entered; }));
  }
  server_->Stop();
  std::this_thread::sleep_for(300ms);  // shutdown waits for the message
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_TRUE(a->ReceiveUntil<proto::Synced>(kWait).ok());
  EXPECT_FALSE(a->ReceiveUntil<proto::Pong>(kWait).ok());
  EXPECT_EQ(a->close_code(), 1001);
}

// An upgrade that completes after shutdown began (CloseAll has run) closes
// itself: shutting_down is what BeginShutdown sets before CloseAll.
TEST_F(SyncWsTest, AnUpgradeThatRacesShutdownIsClosedWith1001) {
  service_.shutting_down.store(true);
  auto c = SyncClient::Connect("127.0.0.1", server_->port());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE((*c)->ReceiveUntil<proto::Welcome>(kWait).ok());
  EXPECT_EQ((*c)->close_code(), 1001);
  service_.shutting_down.store(false);
}

TEST_F(SyncWsTest, PlainGetOfSyncEndpointIsNotUpgraded) {
  // Without an upgrade the path is an ordinary (unknown) route.
  auto c = SyncClient::Connect("127.0.0.1", server_->port(), "/not-sync");
  EXPECT_FALSE(c.ok());
}

// One I/O thread and a REST route that blocks until released (a login
// hashing its password, a slow store): requests are handled on their own
// pool, so the WebSocket sessions, which the I/O threads serve, go on.
// With handlers on the I/O thread, the hello below got no welcome.
class SyncWsSlowRequestTest : public SyncWsTest {
 protected:
  SyncWsSlowRequestTest() { threads_ = 1; }
  void AddRoutes() override {
    router_.Add("GET", "/slow", [this](const HttpRequest&, const PathParams&) {
      entered_ = true;
      gate_.wait();
      return HttpResponse{};
    });
  }
  std::promise<void> release_;
  std::shared_future<void> gate_ = release_.get_future().share();
  std::atomic<bool> entered_{false};
};

TEST_F(SyncWsSlowRequestTest, ASlowRequestDoesNotHoldTheSyncSessions) {
  std::thread slow(
      [this] { weft::testing::HttpCall(server_->port(), "GET", "/slow"); });
  for (int i = 0; i < 500 && !entered_; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(entered_);
  auto c = Join("alice");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->Send(proto::Submit{"doc", {{7, 0, 1, "x"}}}).ok());
  EXPECT_TRUE(c->ReceiveUntil<proto::Ack>(kWait).ok());
  release_.set_value();
  slow.join();
}

}  // namespace
}  // namespace weft::server
