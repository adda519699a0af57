// compare_clients: the client side of bench/peers/server-compare.mjs in
// native code (HARNESS=native there), so that a run with hundreds of
// clients on a small machine measures the server and not a single Node
// thread that has to take in every broadcast. The Node script still sets
// the server up and prints the table; this program opens the clients,
// types, times and prints one JSON object.
//
//   compare_clients kind=weftd|hocuspocus port=P path=/... doc=ID
//       [token=T] clients=C [sample=S] [rate=10] [duration=8] [warmup=2]
//       [drain=5] [server_pid=PID]
//
// The scenario is the Node harness's, message for message: one document,
// C clients each inserting one character at a random place of its own text
// RATE times a second; a sampled receiver reads the edit's id from every
// message (weft: (client_id, first_seq) of each change in `ops`; Yjs:
// (client, clock) from the update's header) and books performance-clock
// latency against the send. Clients never apply each other's edits. The
// others receive and drop. Every client is a raw WebSocket over one
// non-blocking socket, all on one thread (epoll).
//
// Yjs updates are encoded here (update format v1, one item of
// ContentString whose origins are the neighbouring characters of the
// client's own text), weft's through the engine, as the SDK would.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/byte_io.h"
#include "core/text_doc.h"

namespace {

double NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 +
         static_cast<double>(ts.tv_nsec) / 1e6;
}

using weft::core::ByteReader;
using weft::core::ByteWriter;

// 10 µs bins up to 30 s, as the Node harness.
class Histogram {
 public:
  Histogram() : bins_(3'000'000) {}
  void Add(double ms) {
    auto i = std::min(bins_.size() - 1, static_cast<size_t>(ms * 100));
    ++bins_[i];
    ++count_;
    max_ = std::max(max_, ms);
  }
  double Q(double q) const {
    if (count_ == 0) return 0;
    auto rank = std::max<uint64_t>(
        1, static_cast<uint64_t>(q * static_cast<double>(count_) + 0.999999));
    uint64_t seen = 0;
    for (size_t i = 0; i < bins_.size(); ++i) {
      seen += bins_[i];
      if (seen >= rank) {
        return std::min(max_, (static_cast<double>(i) + 0.5) / 100);
      }
    }
    return max_;
  }
  uint64_t count() const { return count_; }
  double max() const { return max_; }

 private:
  std::vector<uint32_t> bins_;
  uint64_t count_ = 0;
  double max_ = 0;
};

struct Options {
  std::string kind = "weftd", path = "/", doc, token;
  int port = 0, clients = 0, sample = 0, server_pid = 0;
  double rate = 10, duration = 8, warmup = 2, drain = 5;
};

enum class State { kConnecting, kHandshake, kJoining, kOpen, kClosed };

struct Conn {
  int fd = -1;
  int index = 0;
  bool measures = false;
  State state = State::kConnecting;
  int join_step = 0;
  std::string in;       // bytes read, not yet parsed
  std::string message;  // a fragmented message being put together
  std::string out;      // bytes not yet written
  bool waiting_out = false;
  uint32_t edits = 0;
  // weftd
  uint64_t client_id = 0;
  std::unique_ptr<weft::core::TextDoc> text;
  // hocuspocus: the client's own characters, by Yjs clock, in text order
  std::vector<uint32_t> clocks;
};

class Run {
 public:
  explicit Run(Options o) : o_(std::move(o)), rng_(std::random_device{}()) {}

  int Main();

 private:
  bool Weft() const { return o_.kind == "weftd"; }
  void Connect(Conn& c);
  void OnEvent(Conn& c, uint32_t events);
  void OnReadable(Conn& c);
  void ParseInput(Conn& c);
  void Flush(Conn& c);
  void SendWs(Conn& c, uint8_t opcode, std::string_view payload);
  void Close(Conn& c, const char* why);
  void OnMessage(Conn& c, std::string_view m);
  void OnWeft(Conn& c, std::string_view m);
  void OnYjs(Conn& c, std::string_view m);
  uint32_t Edit(Conn& c);  // -> the edit's seq (weft) or clock (Yjs)
  std::string YjsFrame(uint64_t type, uint64_t sub, std::string_view bytes);
  void OnRemote(uint64_t client, uint64_t seq, int self);

  Options o_;
  std::mt19937_64 rng_;
  int ep_ = -1;
  std::vector<Conn> conns_;
  std::unordered_map<uint64_t, int> client_of_;
  std::vector<std::vector<double>> sent_at_;
  Histogram hist_, lag_;
  uint64_t delivered_ = 0, errors_ = 0;
  int opened_ = 0, closed_early_ = 0;
  bool ending_ = false;
  std::string last_error_;
};

void Run::Connect(Conn& c) {
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    Close(c, "socket failed (too many open files?)");
    return;
  }
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(o_.port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 &&
      errno != EINPROGRESS) {
    Close(c, "connect failed");
    return;
  }
  std::ostringstream req;
  req << "GET " << o_.path << " HTTP/1.1\r\nHost: 127.0.0.1:" << o_.port
      << "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n";
  if (Weft()) req << "Sec-WebSocket-Protocol: weft.v1\r\n";
  req << "\r\n";
  c.out = req.str();
  c.waiting_out = true;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u32 = static_cast<uint32_t>(c.index);
  epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
}

void Run::Close(Conn& c, const char* why) {
  if (c.state == State::kClosed) return;
  if (!ending_) {
    ++closed_early_;
    last_error_ = why;
  }
  c.state = State::kClosed;
  if (c.fd >= 0) close(c.fd);
  c.fd = -1;
}

void Run::Flush(Conn& c) {
  while (!c.out.empty()) {
    ssize_t n = write(c.fd, c.out.data(), c.out.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      Close(c, "write failed");
      return;
    }
    c.out.erase(0, static_cast<size_t>(n));
  }
  bool want = !c.out.empty() || c.state == State::kConnecting;
  if (want != c.waiting_out) {
    c.waiting_out = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u32 = static_cast<uint32_t>(c.index);
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }
}

// A client frame: FIN, masked (RFC 6455 5.3), with a fixed key: the server
// cannot tell, and it costs the same XOR.
void Run::SendWs(Conn& c, uint8_t opcode, std::string_view payload) {
  if (c.state == State::kClosed) return;
  static constexpr uint8_t kKey[4] = {0x37, 0xfa, 0x21, 0x3d};
  std::string& o = c.out;
  bool was_empty = o.empty();
  o.push_back(static_cast<char>(0x80 | opcode));
  if (payload.size() < 126) {
    o.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() < 65536) {
    o.push_back(static_cast<char>(0x80 | 126));
    o.push_back(static_cast<char>(payload.size() >> 8));
    o.push_back(static_cast<char>(payload.size() & 0xff));
  } else {
    o.push_back(static_cast<char>(0x80 | 127));
    for (int s = 56; s >= 0; s -= 8) {
      o.push_back(static_cast<char>((payload.size() >> s) & 0xff));
    }
  }
  o.append(reinterpret_cast<const char*>(kKey), 4);
  for (size_t i = 0; i < payload.size(); ++i) {
    o.push_back(static_cast<char>(payload[i] ^ kKey[i & 3]));
  }
  if (was_empty && c.state != State::kConnecting &&
      c.state != State::kHandshake) {
    Flush(c);
  }
}

void Run::OnEvent(Conn& c, uint32_t events) {
  if (c.state == State::kClosed) return;
  if (events & (EPOLLERR | EPOLLHUP)) {
    if (!(events & EPOLLIN)) {
      Close(c, "connection reset");
      return;
    }
  }
  if (c.state == State::kConnecting && (events & EPOLLOUT)) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      Close(c, "connect refused");
      return;
    }
    c.state = State::kHandshake;
    c.waiting_out = true;  // Flush re-evaluates
    Flush(c);
  } else if (events & EPOLLOUT) {
    Flush(c);
  }
  if (c.state != State::kClosed && (events & EPOLLIN)) OnReadable(c);
}

void Run::OnReadable(Conn& c) {
  static char buf[256 * 1024];
  const char* ended = nullptr;  // the stream ended: after what came before
  for (;;) {
    ssize_t n = read(c.fd, buf, sizeof buf);
    if (n == 0) {
      ended = "server closed the connection";
      break;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      ended = "read failed";
      break;
    }
    c.in.append(buf, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof buf) break;
  }
  ParseInput(c);
  if (ended != nullptr) Close(c, ended);
}

void Run::ParseInput(Conn& c) {
  size_t p = 0;
  if (c.state == State::kHandshake) {
    auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return;
    if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) {
      Close(c, "upgrade refused");
      return;
    }
    p = end + 4;
    c.state = State::kJoining;
    if (Weft()) {
      ByteWriter hello;
      hello.U8(0x01);
      hello.VarUint(1);
      hello.LengthPrefixed(o_.token);
      hello.LengthPrefixed("bench");
      SendWs(c, 2, hello.buffer());
    } else {
      SendWs(c, 2, YjsFrame(2, 0, "token"));  // Auth: any token
    }
  }
  std::string_view in(c.in);
  while (c.state != State::kClosed) {
    if (in.size() - p < 2) break;
    auto b0 = static_cast<uint8_t>(in[p]), b1 = static_cast<uint8_t>(in[p + 1]);
    size_t h = 2;
    uint64_t len = b1 & 0x7f;
    if (len == 126) {
      if (in.size() - p < 4) break;
      len = (static_cast<uint64_t>(static_cast<uint8_t>(in[p + 2])) << 8) |
            static_cast<uint8_t>(in[p + 3]);
      h = 4;
    } else if (len == 127) {
      if (in.size() - p < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) {
        len = (len << 8) | static_cast<uint8_t>(in[p + 2 + i]);
      }
      h = 10;
    }
    if (in.size() - p - h < len) break;
    std::string_view payload = in.substr(p + h, len);
    p += h + len;
    uint8_t opcode = b0 & 0x0f;
    bool fin = b0 & 0x80;
    if (opcode == 0x9) {
      SendWs(c, 0xA, payload);
    } else if (opcode == 0x8) {
      Close(c, "server sent a close frame");
    } else if (opcode == 0x0 || opcode == 0x1 || opcode == 0x2) {
      if (!fin || !c.message.empty()) {
        c.message.append(payload);
        if (fin) {
          std::string whole = std::move(c.message);
          c.message.clear();
          OnMessage(c, whole);
        }
      } else {
        OnMessage(c, payload);
      }
    }
  }
  if (c.state != State::kClosed) c.in.erase(0, p);
}

void Run::OnMessage(Conn& c, std::string_view m) {
  if (Weft()) {
    OnWeft(c, m);
  } else {
    OnYjs(c, m);
  }
}

void Run::OnRemote(uint64_t client, uint64_t seq, int self) {
  auto it = client_of_.find(client);
  if (it == client_of_.end() || it->second == self) return;
  const auto& sent = sent_at_[static_cast<size_t>(it->second)];
  if (seq < sent.size() && sent[seq] > 0) {
    hist_.Add(NowMs() - sent[seq]);
    ++delivered_;
  }
}

void Run::OnWeft(Conn& c, std::string_view m) {
  if (m.empty()) return;
  auto type = static_cast<uint8_t>(m[0]);
  if (type == 0x81 && c.state == State::kJoining) {  // welcome -> subscribe
    ByteWriter sub;
    sub.U8(0x03);
    sub.LengthPrefixed(o_.doc);
    sub.VarUint(0);
    SendWs(c, 2, sub.buffer());
  } else if (type == 0x85 && c.state == State::kJoining) {  // synced
    c.state = State::kOpen;
    ++opened_;
  } else if (type == 0x8A) {
    ++errors_;
    last_error_ = "weftd sent an error message";
  } else if (type == 0x84 && c.measures) {  // ops
    ByteReader r(m.substr(1));
    std::string_view skip;
    uint64_t first = 0, count = 0;
    if (!r.LengthPrefixed(&skip).ok() || !r.VarUint(&first).ok() ||
        !r.VarUint(&count).ok()) {
      return;
    }
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t client = 0, seq = 0, span = 0;
      if (!r.VarUint(&client).ok() || !r.VarUint(&seq).ok() ||
          !r.VarUint(&span).ok() || !r.LengthPrefixed(&skip).ok()) {
        return;
      }
      OnRemote(client, seq, c.index);
    }
  }
}

std::string Run::YjsFrame(uint64_t type, uint64_t sub, std::string_view bytes) {
  ByteWriter f;
  f.LengthPrefixed(o_.doc);
  f.VarUint(type);
  f.VarUint(sub);
  f.LengthPrefixed(bytes);
  return f.Take();
}

void Run::OnYjs(Conn& c, std::string_view m) {
  ByteReader r(m);
  std::string_view name;
  uint64_t type = 0, sub = 0;
  if (!r.LengthPrefixed(&name).ok() || !r.VarUint(&type).ok()) return;
  if (c.state == State::kJoining && c.join_step == 0 && type == 2) {
    c.join_step = 1;  // authenticated: sync step 1 with an empty state vector
    SendWs(c, 2, YjsFrame(0, 0, std::string(1, '\0')));
    return;
  }
  if (type != 0 || !r.VarUint(&sub).ok()) return;
  if (c.state == State::kJoining && c.join_step == 1 && sub == 1) {
    c.state = State::kOpen;
    ++opened_;
    return;
  }
  if (sub != 2 || !c.measures) return;
  // update := varuint(len) varuint(groups) [varuint(structs) client clock]
  uint64_t len = 0, groups = 0, structs = 0, client = 0, clock = 0;
  if (!r.VarUint(&len).ok() || !r.VarUint(&groups).ok() || groups == 0 ||
      !r.VarUint(&structs).ok() || !r.VarUint(&client).ok() ||
      !r.VarUint(&clock).ok()) {
    return;
  }
  OnRemote(client, clock, c.index);
}

uint32_t Run::Edit(Conn& c) {
  static constexpr char kChars[] = "abcdefghij";
  if (Weft()) {
    auto first = static_cast<uint32_t>(c.text->OpCount(c.client_id));
    std::uniform_int_distribution<uint64_t> at(0, c.text->length());
    (void)c.text->Insert(at(rng_), std::string_view(&kChars[first % 10], 1));
    std::string update = c.text->EncodeClientDiff(c.client_id, first);
    ByteWriter msg;
    msg.U8(0x05);
    msg.LengthPrefixed(o_.doc);
    msg.VarUint(1);
    msg.VarUint(c.client_id);
    msg.VarUint(first);
    msg.VarUint(1);
    msg.LengthPrefixed(update);
    SendWs(c, 2, msg.buffer());
    return first;
  }
  auto clock = static_cast<uint32_t>(c.clocks.size());
  std::uniform_int_distribution<size_t> at(0, c.clocks.size());
  size_t pos = at(rng_);
  // One item: info, origins, content (Yjs Item.write, UpdateEncoderV1).
  ByteWriter u;
  u.VarUint(1);  // one client
  u.VarUint(1);  // one struct
  u.VarUint(c.client_id);
  u.VarUint(clock);
  bool left = pos > 0, right = pos < c.clocks.size();
  u.U8(static_cast<uint8_t>(4 | (left ? 0x80 : 0) | (right ? 0x40 : 0)));
  if (left) {
    u.VarUint(c.client_id);
    u.VarUint(c.clocks[pos - 1]);
  }
  if (right) {
    u.VarUint(c.client_id);
    u.VarUint(c.clocks[pos]);
  }
  if (!left && !right) {
    u.VarUint(1);  // parent is a root type, by name
    u.LengthPrefixed("t");
  }
  u.LengthPrefixed(std::string_view(&kChars[clock % 10], 1));
  u.VarUint(0);  // empty delete set
  c.clocks.insert(c.clocks.begin() + static_cast<std::ptrdiff_t>(pos), clock);
  SendWs(c, 2, YjsFrame(0, 2, u.buffer()));
  return clock;
}

// The resident size of process `pid` in MiB (0 if unknown).
double RssMiB(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  }
  return 0;
}

double CpuSeconds(int pid) {
  if (pid <= 0) {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  }
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), {});
  auto close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 0; i < 13 && rest >> field; ++i) {
    if (i == 11 || i == 12) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int Run::Main() {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  const int n = o_.clients;
  int sampled = o_.sample > 0 && o_.sample < n ? o_.sample : n;
  conns_.resize(static_cast<size_t>(n));
  auto per_client =
      static_cast<size_t>(o_.rate * (o_.duration + o_.warmup)) + 8;
  sent_at_.assign(static_cast<size_t>(n), std::vector<double>(per_client, 0));
  for (int k = 0; k < sampled; ++k) {
    conns_[static_cast<size_t>((static_cast<int64_t>(k) * n) / sampled)]
        .measures = true;
  }
  std::uniform_int_distribution<uint64_t> r40(0, (uint64_t{1} << 40) - 1);
  std::uniform_int_distribution<uint32_t> r32(1, 0xffffffffu);
  for (int i = 0; i < n; ++i) {
    Conn& c = conns_[static_cast<size_t>(i)];
    c.index = i;
    if (Weft()) {
      c.client_id = 1 + static_cast<uint64_t>(i) + r40(rng_) * 4096;
      c.text = std::make_unique<weft::core::TextDoc>(c.client_id);
    } else {
      do c.client_id = r32(rng_);
      while (client_of_.count(c.client_id));
    }
    client_of_[c.client_id] = i;
  }
  epoll_event events[512];
  auto poll = [&](int timeout_ms) {
    int k = epoll_wait(ep_, events, 512, timeout_ms);
    for (int e = 0; e < k; ++e) {
      OnEvent(conns_[events[e].data.u32], events[e].events);
    }
  };
  // Open in groups of 50, as the Node harness does.
  double deadline = NowMs() + 60'000;
  for (int i = 0; i < n; i += 50) {
    int end = std::min(n, i + 50);
    for (int j = i; j < end; ++j) Connect(conns_[static_cast<size_t>(j)]);
    while (opened_ < end && NowMs() < deadline && closed_early_ == 0) poll(5);
    if (opened_ < end) {
      std::printf("{\"error\":\"%d of %d clients opened: %s\"}\n", opened_, n,
                  last_error_.c_str());
      return 1;
    }
  }
  const double interval = 1000.0 / o_.rate;
  const double start = NowMs() + 50;
  const double measure_from = start + o_.warmup * 1000;
  const double stop = measure_from + o_.duration * 1000;
  std::vector<double> next(static_cast<size_t>(n));
  std::uniform_real_distribution<double> phase(0, interval);
  for (auto& t : next) t = start + phase(rng_);
  uint64_t edits = 0, expected = 0;
  double cpu0 = 0, srv0 = 0;
  bool measuring = false;
  for (;;) {
    double now = NowMs();
    if (!measuring && now >= measure_from) {
      measuring = true;
      cpu0 = CpuSeconds(0);
      srv0 = CpuSeconds(o_.server_pid);
    }
    if (now >= stop) break;
    for (int i = 0; i < n; ++i) {
      Conn& c = conns_[static_cast<size_t>(i)];
      double& due = next[static_cast<size_t>(i)];
      // A connection closed early still "types" (its edits go nowhere),
      // so they count as lost, as with the Node clients.
      while (due <= now && c.edits < per_client) {
        if (due >= measure_from) lag_.Add(NowMs() - due);
        uint32_t seq = Edit(c);
        if (due >= measure_from) {
          sent_at_[static_cast<size_t>(i)][seq] = NowMs();
          ++edits;
          expected += static_cast<uint64_t>(sampled - (c.measures ? 1 : 0));
        }
        ++c.edits;
        due += interval;
      }
    }
    poll(1);
  }
  double drain_end = NowMs() + o_.drain * 1000;
  while (delivered_ < expected && NowMs() < drain_end) poll(5);
  double wall = std::max(1e-3, (NowMs() - measure_from) / 1000);
  double cpu = CpuSeconds(0) - cpu0;
  double srv = CpuSeconds(o_.server_pid) - srv0;
  double rss = RssMiB(o_.server_pid);  // with every connection still open
  ending_ = true;
  for (Conn& c : conns_) Close(c, "");
  std::printf(
      "{\"sampled\":%d,\"edits\":%llu,\"expected\":%llu,\"delivered\":%llu,"
      "\"closedEarly\":%d,\"errors\":%llu,\"p50\":%.3f,\"p99\":%.3f,"
      "\"max\":%.3f,\"harnessCpu\":%.1f,\"serverCpu\":%.1f,\"lagP99\":%.3f,"
      "\"rss\":%.1f,\"lastError\":\"%s\"}\n",
      sampled, static_cast<unsigned long long>(edits),
      static_cast<unsigned long long>(expected),
      static_cast<unsigned long long>(delivered_), closed_early_,
      static_cast<unsigned long long>(errors_), hist_.Q(0.5), hist_.Q(0.99),
      hist_.max(), 100 * cpu / wall, 100 * srv / wall, lag_.Q(0.99), rss,
      last_error_.c_str());
  return 0;
}

bool ParseOptions(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a(argv[i]);
    auto eq = a.find('=');
    if (eq == std::string_view::npos) return false;
    std::string k(a.substr(0, eq)), v(a.substr(eq + 1));
    if (k == "kind")
      o.kind = v;
    else if (k == "path")
      o.path = v;
    else if (k == "doc")
      o.doc = v;
    else if (k == "token")
      o.token = v;
    else if (k == "port")
      o.port = std::atoi(v.c_str());
    else if (k == "clients")
      o.clients = std::atoi(v.c_str());
    else if (k == "sample")
      o.sample = std::atoi(v.c_str());
    else if (k == "server_pid")
      o.server_pid = std::atoi(v.c_str());
    else if (k == "rate")
      o.rate = std::atof(v.c_str());
    else if (k == "duration")
      o.duration = std::atof(v.c_str());
    else if (k == "warmup")
      o.warmup = std::atof(v.c_str());
    else if (k == "drain")
      o.drain = std::atof(v.c_str());
    else
      return false;
  }
  return (o.kind == "weftd" || o.kind == "hocuspocus") && o.port > 0 &&
         o.clients > 0 && !o.doc.empty() && o.rate > 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A write to a connection the server closed fails with EPIPE, not a
  // signal; and one socket per client may need more than 1,024 files.
  signal(SIGPIPE, SIG_IGN);
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 &&
      files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  Options o;
  if (!ParseOptions(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: compare_clients kind=weftd|hocuspocus port=P "
                 "path=/... doc=ID [token=T] clients=C [sample=S] [rate=10] "
                 "[duration=8] [warmup=2] [drain=5] [server_pid=PID]\n");
    return 2;
  }
  return Run(std::move(o)).Main();
}
