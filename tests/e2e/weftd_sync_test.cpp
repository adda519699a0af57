// End-to-end: a real weftd (SQLite store, REST accounts, engine) and real
// WebSocket clients holding engine replicas.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "client/sync_client.h"
#include "core/doc.h"
#include "core/text_doc.h"
#include "http_client.h"
#include "process.h"
#include "store/sqlite_store.h"

namespace weft::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using client::SyncClient;
constexpr auto kWait = 5s;

struct User {
  std::string id, email, token;
};

// One person's editor: an engine replica (a TextDoc, or a board's Doc)
// and a sync connection.
template <typename D>
struct Replica {
  std::unique_ptr<SyncClient> conn;
  std::unique_ptr<D> doc;

  // Runs `edit` on a board's Doc and submits its ops as one change, named
  // by the client's operation count (docs/protocol.md, `change`).
  template <typename F>
  void Edit(const std::string& doc_id, F edit) {
    std::uint64_t c = doc->client_id();
    std::string sv = doc->EncodeStateVector();
    std::uint64_t first = doc->OpCount(c);
    edit(*doc);
    auto update = doc->EncodeDiff(sv);
    ASSERT_TRUE(update.ok());
    proto::Change change{c, first, doc->OpCount(c) - first, *update};
    ASSERT_TRUE(conn->Send(proto::Submit{doc_id, {change}}).ok());
  }

  // Inserts locally and submits the change (the update of the new ops).
  void Insert(const std::string& doc_id, std::uint64_t pos,
              const std::string& s) {
    auto before = doc->GetStateVector();
    ASSERT_TRUE(doc->Insert(pos, s).ok());
    auto after = doc->GetStateVector();
    std::uint64_t c = doc->client_id();
    std::uint64_t first = before.count(c) ? before[c] : 0;
    proto::Change change{c, first, after[c] - first, doc->EncodeDiff(before)};
    ASSERT_TRUE(conn->Send(proto::Submit{doc_id, {change}}).ok());
  }

  // Receives until an ack for `n` changes arrived, applying remote ops.
  void Pump(std::chrono::milliseconds for_how_long) {
    auto end = std::chrono::steady_clock::now() + for_how_long;
    while (std::chrono::steady_clock::now() < end) {
      auto m = conn->Receive(50ms);
      if (!m.ok()) continue;
      Apply(*m);
    }
  }
  void Apply(const proto::Message& m) {
    if (auto* ops = std::get_if<proto::Ops>(&m)) {
      for (const auto& c : ops->changes) {
        ASSERT_TRUE(doc->ApplyUpdate(c.update).ok());
      }
    } else if (auto* snap = std::get_if<proto::Snapshot>(&m)) {
      auto loaded = D::LoadSnapshot(snap->state, doc->client_id());
      ASSERT_TRUE(loaded.ok());
      doc = std::move(*loaded);
    }
  }
  template <typename T>
  T Await() {
    for (;;) {
      auto m = conn->Receive(kWait);
      EXPECT_TRUE(m.ok()) << m.status().ToString();
      if (!m.ok()) return T{};
      Apply(*m);
      if (auto* t = std::get_if<T>(&*m)) return *t;
    }
  }
};

using Editor = Replica<core::TextDoc>;
using BoardEditor = Replica<core::Doc>;

class WeftdSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("/tmp", "weftd-sync-");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    Start();
  }
  void TearDown() override {
    if (pid_ > 0) StopProcess(pid_, SIGKILL, 1s);
    RemoveTree(dir_);
  }
  void Start() {
    auto port = FreeLoopbackPort();
    ASSERT_TRUE(port.ok());
    port_ = *port;
    SpawnOptions opts;
    opts.log_path = dir_ + "/weftd.log";
    opts.env = {"WEFT_PASSWORD_HASH_COST=test"};
    std::vector<std::string> argv = {WEFTD_PATH, "--port",
                                     std::to_string(port_), "--data-dir",
                                     dir_ + "/data"};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    auto pid = Spawn(argv, opts);
    ASSERT_TRUE(pid.ok());
    pid_ = *pid;
    for (int i = 0; i < 500; ++i) {
      if (HttpCall(port_, "GET", "/livez").status == 200) return;
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << "weftd did not start";
  }
  void Kill() {
    StopProcess(pid_, SIGKILL, 1s);
    pid_ = -1;
  }
  // Stops weftd and checks its SQLite store holds no op or snapshot of `doc`.
  void ExpectNoContentStored(const std::string& doc) {
    Kill();
    store::SqliteOptions opts;
    opts.path = dir_ + "/data/weft.db";
    auto store = store::OpenSqliteStore(opts);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(*(*store)->LastSeq(doc), 0);
    EXPECT_EQ((*store)->LoadDocument(doc).status().code(),
              StatusCode::kNotFound);
  }

  json::value Call(const std::string& method, const std::string& path,
                   const json::object& body, const std::string& token,
                   int expect) {
    auto r = HttpCall(port_, method, path,
                      body.empty() ? "" : json::serialize(body), token);
    EXPECT_EQ(r.status, expect) << method << " " << path << ": " << r.body;
    if (r.body.empty()) return nullptr;
    return json::parse(r.body);
  }
  User Register(const std::string& name) {
    auto v = Call("POST", "/api/v1/auth/register",
                  {{"email", name + "@example.com"},
                   {"password", "correct horse battery"},
                   {"display_name", name}},
                  "", 201);
    return User{std::string(v.at("user").at("id").as_string()),
                name + "@example.com",
                std::string(v.at("access_token").as_string())};
  }
  // alice owns a workspace with a document of `kind`; bob joins as `role`.
  void SetUpTeam(const std::string& bob_role,
                 const std::string& kind = "text") {
    alice_ = Register("alice");
    bob_ = Register("bob");
    ws_ = std::string(Call("POST", "/api/v1/workspaces", {{"name", "Team"}},
                           alice_.token, 201)
                          .at("id")
                          .as_string());
    doc_ = std::string(Call("POST", "/api/v1/workspaces/" + ws_ + "/documents",
                            {{"kind", kind}, {"title", "Notes"}}, alice_.token,
                            201)
                           .at("id")
                           .as_string());
    auto inv =
        Call("POST", "/api/v1/workspaces/" + ws_ + "/invitations",
             {{"email", bob_.email}, {"role", bob_role}}, alice_.token, 201);
    Call("POST",
         "/api/v1/invitations/" + std::string(inv.at("token").as_string()) +
             "/accept",
         {}, bob_.token, 200);
  }
  template <typename D = core::TextDoc>
  Replica<D> Connect(const User& u, std::uint64_t client_id,
                     std::uint64_t since = 0, int receive_buffer = 0) {
    Replica<D> e;
    auto c = SyncClient::Connect("127.0.0.1", port_, "/api/v1/sync",
                                 std::chrono::seconds(5), receive_buffer);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    e.conn = std::move(*c);
    e.doc = std::make_unique<D>(client_id);
    EXPECT_TRUE(e.conn->Send(proto::Hello{1, u.token, "test"}).ok());
    e.template Await<proto::Welcome>();
    EXPECT_TRUE(e.conn->Send(proto::Subscribe{doc_, since}).ok());
    e.template Await<proto::Synced>();
    return e;
  }

  std::string dir_;
  std::vector<std::string> extra_args_;  // for the next Start()
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  User alice_, bob_;
  std::string ws_, doc_;
};

TEST_F(WeftdSyncTest, TwoEditorsConvergeAndAcknowledgedEditsSurviveSigkill) {
  SetUpTeam("editor");
  Editor a = Connect(alice_, 11);
  Editor b = Connect(bob_, 22);
  a.Insert(doc_, 0, "Hello");
  b.Insert(doc_, 0, "Wörld ");
  a.Await<proto::Ack>();
  b.Await<proto::Ack>();
  a.Insert(doc_, a.doc->length(), "!");
  a.Await<proto::Ack>();
  a.Pump(300ms);
  b.Pump(300ms);
  EXPECT_EQ(a.doc->Text(), b.doc->Text());
  EXPECT_EQ(a.doc->length(), 12u);
  std::string text = a.doc->Text();
  // Integrations read the same content over REST.
  auto content = Call("GET", "/api/v1/documents/" + doc_ + "/content", {},
                      bob_.token, 200);
  EXPECT_EQ(content.at("text").as_string(), text);
  User eve = Register("eve");
  Call("GET", "/api/v1/documents/" + doc_ + "/content", {}, eve.token, 404);

  // Every acknowledged edit is durable: kill the server without warning.
  Kill();
  Start();
  Editor late = Connect(alice_, 33);
  EXPECT_EQ(late.doc->Text(), text);
}

TEST_F(WeftdSyncTest, BoardMoveAndRenameConvergeAndSurviveRestart) {
  SetUpTeam("editor", "board");
  BoardEditor a = Connect<core::Doc>(alice_, 11);
  BoardEditor b = Connect<core::Doc>(bob_, 22);
  using core::ContainerRef;
  using core::Value;
  auto cards = ContainerRef::RootMap("cards");
  auto order = ContainerRef::RootList("todo");
  std::optional<ContainerRef> card;
  a.Edit(doc_, [&](core::Doc& d) {
    auto c = d.structure().MapSet(cards, "c1", Value::NewMap());
    ASSERT_TRUE(c.ok() && c->has_value());
    card = **c;
    ASSERT_TRUE(
        d.structure().MapSet(*card, "title", Value::String("Spec")).ok());
    ASSERT_TRUE(
        d.structure().MapSet(*card, "column", Value::String("todo")).ok());
    ASSERT_TRUE(d.structure().ListInsert(order, 0, Value::String("c1")).ok());
    ASSERT_TRUE(d.structure().ListInsert(order, 1, Value::String("c2")).ok());
  });
  a.Await<proto::Ack>();
  b.Await<proto::Ops>();
  ASSERT_EQ(b.doc->ToJson(), a.doc->ToJson());
  // At once: alice moves the card to "done" and reorders the column; bob
  // renames it.
  a.Edit(doc_, [&](core::Doc& d) {
    ASSERT_TRUE(
        d.structure().MapSet(*card, "column", Value::String("done")).ok());
    auto items = d.structure().ListItems(order);
    ASSERT_EQ(items.size(), 2u);
    ASSERT_TRUE(d.structure().ListMove(order, items[1].id, 0).ok());
  });
  b.Edit(doc_, [&](core::Doc& d) {
    ASSERT_TRUE(
        d.structure().MapSet(*card, "title", Value::String("Spec v2")).ok());
  });
  a.Await<proto::Ack>();
  b.Await<proto::Ack>();
  a.Pump(300ms);
  b.Pump(300ms);
  std::string json = a.doc->ToJson();
  EXPECT_EQ(b.doc->ToJson(), json);
  EXPECT_EQ(json, R"({"map:cards":{"c1":{"column":"done","title":"Spec v2"}},)"
                  R"("list:todo":["c2","c1"]})");
  // Integrations read the board as JSON over REST.
  auto content = Call("GET", "/api/v1/documents/" + doc_ + "/content", {},
                      bob_.token, 200);
  EXPECT_EQ(json::serialize(content), json);
  // A text update is refused on a board.
  core::TextDoc t(11);
  ASSERT_TRUE(t.Insert(0, "x").ok());
  proto::Change wrong{11, a.doc->OpCount(11), 1, t.EncodeDiff({})};
  ASSERT_TRUE(a.conn->Send(proto::Submit{doc_, {wrong}}).ok());
  EXPECT_EQ(a.Await<proto::Error>().code, 422u);

  // The next start snapshots after every logged change, so the restart
  // below loads (and verifies) the board from a snapshot too.
  extra_args_ = {"--snapshot-every", "1"};
  a.Edit(doc_, [&](core::Doc& d) {
    ASSERT_TRUE(
        d.structure().MapSet(*card, "due", Value::String("2026-12-01")).ok());
  });
  a.Await<proto::Ack>();
  b.Await<proto::Ops>();
  json = a.doc->ToJson();
  EXPECT_EQ(b.doc->ToJson(), json);

  Kill();
  Start();
  // One more change is snapshotted at once, then the server dies again.
  BoardEditor c = Connect<core::Doc>(alice_, 44);
  EXPECT_EQ(c.doc->ToJson(), json);
  c.Edit(doc_, [&](core::Doc& d) {
    ASSERT_TRUE(d.structure().MapDelete(*card, "due").ok());
  });
  c.Await<proto::Ack>();
  json = c.doc->ToJson();
  // The ack came after a durable group commit, which the store reported.
  {
    auto m = HttpCall(port_, "GET", "/metrics").body;
    auto at = m.find("\nweft_store_commits_total ");
    ASSERT_NE(at, std::string::npos);
    EXPECT_GE(std::stod(m.substr(at + 26)), 1.0);
    EXPECT_NE(m.find("weft_store_commit_seconds_bucket"), std::string::npos);
  }
  // The snapshot follows the ack.
  bool snapshotted = false;
  for (int i = 0; i < 100 && !snapshotted; ++i) {
    auto m = HttpCall(port_, "GET", "/metrics");
    snapshotted =
        m.body.find("weft_sync_snapshot_seconds_count 1") != std::string::npos;
    if (!snapshotted) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(snapshotted);
  Kill();
  Start();
  BoardEditor late = Connect<core::Doc>(alice_, 33);
  EXPECT_EQ(late.doc->ToJson(), json);
}

TEST_F(WeftdSyncTest, PresenceIsCoalescedAndGoneOnDisconnect) {
  SetUpTeam("editor");
  Editor a = Connect(alice_, 11);
  Editor b = Connect(bob_, 22);
  std::string last;
  for (int i = 0; i < 20; ++i) {
    last = R"({"name":"alice","cursor":)" + std::to_string(i) + "}";
    ASSERT_TRUE(a.conn->Send(proto::Presence{doc_, last}).ok());
  }
  // bob sees alice's latest state, in far fewer messages than she sent.
  std::vector<proto::PresenceOf> seen;
  auto end = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < end &&
         (seen.empty() || seen.back().state != last)) {
    auto m = b.conn->Receive(100ms);
    if (!m.ok()) continue;
    if (auto* p = std::get_if<proto::PresenceOf>(&*m)) seen.push_back(*p);
  }
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().state, last);
  EXPECT_LT(seen.size(), 20u);
  // A late joiner gets the current presence right after `synced`.
  Editor c = Connect(bob_, 33);
  auto now = c.Await<proto::PresenceOf>();
  EXPECT_EQ(now.state, last);
  // alice leaves: the others hear it at once.
  a.conn->Close();
  auto gone = b.Await<proto::PresenceGone>();
  EXPECT_EQ(gone.session_id, seen.back().session_id);
}

TEST_F(WeftdSyncTest, ViewerCannotWriteAndRemovalEndsTheSubscription) {
  SetUpTeam("editor");
  Editor b = Connect(bob_, 22);
  // Downgrade bob through the REST API: his next submit is refused.
  Call("PATCH", "/api/v1/workspaces/" + ws_ + "/members/" + bob_.id,
       {{"role", "viewer"}}, alice_.token, 200);
  b.Insert(doc_, 0, "x");
  auto err = b.Await<proto::Error>();
  EXPECT_EQ(err.code, 403u);
  // Remove him: the open session learns it within a second.
  auto start = std::chrono::steady_clock::now();
  Call("DELETE", "/api/v1/workspaces/" + ws_ + "/members/" + bob_.id, {},
       alice_.token, 204);
  auto u = b.Await<proto::Unsubscribed>();
  EXPECT_EQ(u.code, 410u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST_F(WeftdSyncTest, StrangersAndBadTokensGetNothing) {
  SetUpTeam("viewer");
  User eve = Register("eve");
  auto c = SyncClient::Connect("127.0.0.1", port_);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Send(proto::Hello{1, eve.token, "x"}).ok());
  ASSERT_TRUE((*c)->ReceiveUntil<proto::Welcome>(kWait).ok());
  ASSERT_TRUE((*c)->Send(proto::Subscribe{doc_, 0}).ok());
  auto e = (*c)->ReceiveUntil<proto::Error>(kWait);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->code, 404u);

  auto forged = SyncClient::Connect("127.0.0.1", port_);
  ASSERT_TRUE(forged.ok());
  ASSERT_TRUE((*forged)->Send(proto::Hello{1, alice_.token + "x", "x"}).ok());
  EXPECT_FALSE((*forged)->ReceiveUntil<proto::Welcome>(kWait).ok());
  EXPECT_EQ((*forged)->close_code(), 4401);
}

TEST_F(WeftdSyncTest, SlowConsumerIsDisconnectedAndResumesWithoutLoss) {
  extra_args_ = {"--max-outbound-bytes", "1048576"};
  Kill();
  Start();
  SetUpTeam("editor");
  Editor writer = Connect(alice_, 11);
  // bob subscribes with a small socket buffer, then stops reading.
  Editor slow = Connect(bob_, 22, 0, 16 * 1024);
  // 8 MiB of edits: more than the socket buffers between weftd and the
  // slow reader hold (at most 4 MiB on weftd's side), so weftd's queue for
  // it overflows. The writer sends 4 changes at a time (bursts well below
  // the limit) and reads everything it is sent.
  const std::string chunk(64 * 1024, 'x');
  for (int round = 0; round < 32; ++round) {
    for (int i = 0; i < 4; ++i) writer.Insert(doc_, 0, chunk);
    // Until the echo of all 4 changes (ops may carry several).
    for (std::size_t echoed = 0; echoed < 4;) {
      echoed += writer.Await<proto::Ops>().changes.size();
    }
  }
  ASSERT_TRUE(writer.conn->is_open());
  std::string text = writer.doc->Text();
  // The slow reader finds what was buffered, then the close with 4508.
  std::uint64_t last_seq = 0;
  for (;;) {
    auto m = slow.conn->Receive(kWait);
    if (!m.ok()) break;
    if (auto* ops = std::get_if<proto::Ops>(&*m)) {
      for (const auto& c : ops->changes) {
        ASSERT_TRUE(slow.doc->ApplyUpdate(c.update).ok());
      }
      last_seq = ops->first_seq + ops->changes.size() - 1;
    }
  }
  EXPECT_EQ(slow.conn->close_code(), 4508);
  EXPECT_LT(slow.doc->length(), text.size());
  // The server lives on and counts the reason (once the connection ends).
  bool counted = false;
  for (int i = 0; i < 100 && !counted; ++i) {
    counted = HttpCall(port_, "GET", "/metrics")
                  .body.find(
                      "weft_sync_disconnects_total{reason=\"slow_"
                      "consumer\"} 1") != std::string::npos;
    if (!counted) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(counted);
  // The reader resumes from the last sequence number it saw, loses nothing.
  auto again = SyncClient::Connect("127.0.0.1", port_);
  ASSERT_TRUE(again.ok());
  slow.conn = std::move(*again);  // an ordinary socket this time
  ASSERT_TRUE(slow.conn->Send(proto::Hello{1, bob_.token, "test"}).ok());
  slow.Await<proto::Welcome>();
  ASSERT_TRUE(slow.conn->Send(proto::Subscribe{doc_, last_seq}).ok());
  slow.Await<proto::Synced>();
  EXPECT_TRUE(slow.doc->Text() == text)
      << slow.doc->length() << " vs " << text.size() << " code points";

  // Catch-up does not count against the limit, but a connection's next
  // message is not read while more than the limit of catch-up waits for
  // it: a client that subscribes to this 8 MiB document again and again
  // without reading gets one catch-up queued at a time (all four were
  // queued at once before), and once it reads it gets them all, without
  // being closed as a slow consumer.
  Editor hog = Connect(bob_, 33, 0, 16 * 1024);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(hog.conn->Send(proto::Unsubscribe{doc_}).ok());
    ASSERT_TRUE(hog.conn->Send(proto::Subscribe{doc_, 0}).ok());
  }
  std::this_thread::sleep_for(500ms);
  double queued = -1;
  std::istringstream metrics(HttpCall(port_, "GET", "/metrics").body);
  for (std::string line; std::getline(metrics, line);) {
    if (line.rfind("weft_sync_outbound_queued_bytes ", 0) == 0) {
      queued = std::stod(line.substr(line.find(' ') + 1));
    }
  }
  EXPECT_GE(queued, 0);
  EXPECT_LT(queued, 12.0 * 1024 * 1024);  // four catch-ups are over 32 MiB
  for (int synced = 0; synced < 4;) {
    auto m = hog.conn->Receive(kWait);
    ASSERT_TRUE(m.ok()) << m.status().ToString() << " after " << synced;
    if (std::holds_alternative<proto::Synced>(*m)) ++synced;
  }
  EXPECT_TRUE(hog.conn->is_open());
}

// Reads weftd's resident memory from /proc.
std::size_t ResidentBytes(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stoull(line.substr(6)) * 1024;
    }
  }
  return 0;
}

TEST_F(WeftdSyncTest, IdleDocumentsAreUnloadedAndTheirMemoryReturns) {
  extra_args_ = {"--unload-interval", "1", "--api-rate-limit", "100000"};
  Kill();
  Start();
  SetUpTeam("editor");
  constexpr int kDocs = 1000;
  std::vector<std::string> docs;
  for (int i = 0; i < kDocs; ++i) {
    docs.push_back(
        std::string(Call("POST", "/api/v1/workspaces/" + ws_ + "/documents",
                         {{"kind", i % 2 ? "text" : "board"}, {"title", "d"}},
                         alice_.token, 201)
                        .at("id")
                        .as_string()));
  }
  std::size_t baseline = ResidentBytes(pid_);
  // Four connections (each within its submit rate limit) open every
  // document and write 24 KiB into each.
  std::vector<Editor> conns;
  for (int i = 0; i < 4; ++i) conns.push_back(Connect(alice_, 11));
  core::Doc board(11);
  std::string board_sv = board.EncodeStateVector();
  ASSERT_TRUE(board.structure()
                  .MapSet(core::ContainerRef::RootMap("cards"), "c",
                          core::Value::String(std::string(24 * 1024, 'b')))
                  .ok());
  auto board_update = board.EncodeDiff(board_sv);
  ASSERT_TRUE(board_update.ok());
  core::TextDoc text(11);
  ASSERT_TRUE(text.Insert(0, std::string(24 * 1024, 't')).ok());
  // In rounds of 50, reading the answers (and the echoed ops) in between.
  for (int round = 0; round < kDocs; round += 50) {
    Editor& e = conns[(round / 50) % conns.size()];
    for (int i = round; i < round + 50; ++i) {
      ASSERT_TRUE(e.conn->Send(proto::Subscribe{docs[i], 0}).ok());
      proto::Change c =
          i % 2 ? proto::Change{11, 0, text.length(), text.EncodeDiff({})}
                : proto::Change{11, 0, 1, *board_update};
      ASSERT_TRUE(e.conn->Send(proto::Submit{docs[i], {c}}).ok());
    }
    for (int acks = 0; acks < 50;) {
      auto m = e.conn->Receive(std::chrono::seconds(30));
      ASSERT_TRUE(m.ok()) << "round " << round << ": " << m.status().ToString();
      if (std::holds_alternative<proto::Ack>(*m)) ++acks;
      if (auto* err = std::get_if<proto::Error>(&*m)) FAIL() << err->message;
    }
  }
  std::size_t peak = ResidentBytes(pid_);
  auto loaded = [&] {
    auto m = HttpCall(port_, "GET", "/metrics").body;
    auto at = m.find("\nweft_sync_documents_loaded ");
    return at == std::string::npos ? -1 : std::stoi(m.substr(at + 28));
  };
  EXPECT_EQ(loaded(), kDocs + 1);  // with the team's first document
  // Everyone leaves; within a few unload sweeps every document is
  // snapshotted and unloaded.
  for (auto& e : conns) e.conn->Close();
  for (int i = 0; i < 100 && loaded() != 0; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(loaded(), 0);
  std::size_t after = ResidentBytes(pid_);
  std::cerr << "weftd resident: " << baseline / 1024 << " KiB before, "
            << peak / 1024 << " KiB with " << kDocs << " documents open, "
            << after / 1024 << " KiB after they were unloaded\n";
  // The documents took memory, and most of it came back.
  ASSERT_GT(peak, baseline + 20 * 1024 * 1024)
      << "baseline " << baseline << " peak " << peak;
  EXPECT_LT(after - std::min(after, baseline), (peak - baseline) / 4)
      << "baseline " << baseline << " peak " << peak << " after " << after;
  // And the documents are all still there.
  auto content = Call("GET", "/api/v1/documents/" + docs[1] + "/content", {},
                      bob_.token, 200);
  EXPECT_EQ(content.at("text").as_string().size(), 24u * 1024);
}

TEST_F(WeftdSyncTest, UpdateThatLiesAboutItsIdsIsRefused) {
  SetUpTeam("editor");
  Editor a = Connect(alice_, 11);
  core::TextDoc other(99);
  ASSERT_TRUE(other.Insert(0, "abc").ok());
  // Claims to be client 11's ops but carries client 99's.
  proto::Change lie{11, 0, 3, other.EncodeDiff({})};
  ASSERT_TRUE(a.conn->Send(proto::Submit{doc_, {lie}}).ok());
  auto err = a.Await<proto::Error>();
  EXPECT_EQ(err.code, 422u) << err.message;
  // The server's document is untouched: a new reader sees nothing.
  Editor b = Connect(bob_, 22);
  EXPECT_EQ(b.doc->Text(), "");
}

TEST_F(WeftdSyncTest, AnotherUsersClientIdIsRefusedAlsoAfterARestart) {
  SetUpTeam("editor");
  Editor a = Connect(alice_, 11);
  a.Insert(doc_, 0, "Hello");
  a.Await<proto::Ack>();
  for (int round = 0; round < 2; ++round) {
    // Bob writes the next operations of alice's client id: refused, so
    // that alice's own next change is not then refused as overlapping.
    Editor b = Connect(bob_, 11);
    ASSERT_EQ(b.doc->Text(), round == 0 ? "Hello" : "Hello!");
    b.Insert(doc_, 0, "X");
    auto err = b.Await<proto::Error>();
    EXPECT_EQ(err.code, 422u) << err.message;
    EXPECT_NE(err.message.find("belongs to another user"), std::string::npos)
        << err.message;
    a.Insert(doc_, a.doc->length(), round == 0 ? "!" : "?");
    auto ack = a.Await<proto::Ack>();
    EXPECT_EQ(ack.entries.size(), 1u);
    if (round == 0) {
      // Loaded again from the store, the document still knows whose
      // client id 11 is.
      Kill();
      Start();
      a = Connect(alice_, 11);
    }
  }
  auto content = Call("GET", "/api/v1/documents/" + doc_ + "/content", {},
                      bob_.token, 200);
  EXPECT_EQ(content.at("text").as_string(), "Hello!?");
}

TEST_F(WeftdSyncTest, APasswordChangeEndsTheLiveSessionsOfTheOldPassword) {
  SetUpTeam("editor");
  Editor a = Connect(alice_, 11);  // a session with a token of the old password
  Editor b = Connect(bob_, 22);
  auto changed = Call("POST", "/api/v1/me/password",
                      {{"current_password", "correct horse battery"},
                       {"new_password", "a much better passphrase"}},
                      alice_.token, 200);
  // Closed at once (4401: sign in again), not when the token expires.
  for (int i = 0; i < 20 && !a.conn->close_code(); ++i) {
    (void)a.conn->Receive(100ms);
  }
  EXPECT_EQ(a.conn->close_code(), 4401);
  EXPECT_FALSE(b.conn->close_code().has_value());
  // The new password's token works.
  User fresh = alice_;
  fresh.token = std::string(changed.at("access_token").as_string());
  Editor again = Connect(fresh, 33);
  again.Insert(doc_, 0, "hi");
  EXPECT_EQ(again.Await<proto::Ack>().entries.size(), 1u);
}

TEST_F(WeftdSyncTest, APasswordResetByTheCommandLineEndsLiveSessions) {
  SetUpTeam("editor");
  Editor a = Connect(alice_, 11);
  Editor b = Connect(bob_, 22);
  // `weft` is another process: weftd learns it from the store's access
  // change feed, which it reads every second.
  SpawnOptions opts;
  opts.log_path = dir_ + "/weft.log";
  opts.env = {"WEFT_PASSWORD_HASH_COST=test"};
  auto code = RunWithStdinLine({WEFT_PATH, "user", "reset-password", "--email",
                                alice_.email, "--data-dir", dir_ + "/data"},
                               "a much better passphrase", opts);
  ASSERT_TRUE(code.ok());
  ASSERT_EQ(*code, 0) << "see " << opts.log_path;
  for (int i = 0; i < 50 && !a.conn->close_code(); ++i) {
    (void)a.conn->Receive(100ms);
  }
  EXPECT_EQ(a.conn->close_code(), 4401);
  b.Insert(doc_, 0, "still here");
  EXPECT_EQ(b.Await<proto::Ack>().entries.size(), 1u);
  EXPECT_FALSE(b.conn->close_code().has_value());
}

TEST_F(WeftdSyncTest, DeletingAWorkspaceDeletesItsDocumentsContent) {
  SetUpTeam("editor");
  Editor a = Connect(alice_, 11);
  a.Insert(doc_, 0, "TOP-SECRET-CONTENT");
  a.Await<proto::Ack>();
  Call("DELETE", "/api/v1/workspaces/" + ws_, {}, alice_.token, 204);
  ExpectNoContentStored(doc_);
}

TEST_F(WeftdSyncTest, ADeletedDocumentPastItsRetentionIsPurged) {
  Kill();
  extra_args_ = {"--document-retention", "1", "--unload-interval", "1"};
  Start();
  SetUpTeam("editor");
  {
    Editor a = Connect(alice_, 11);
    a.Insert(doc_, 0, "TOP-SECRET-CONTENT");
    a.Await<proto::Ack>();
  }
  Call("DELETE", "/api/v1/documents/" + doc_, {}, alice_.token, 204);
  // In the trash for a second; past its retention it is listed no more
  // and cannot be restored (410), and a sweep then removes its row
  // (restore: 404) and its content.
  std::string trash = "/api/v1/workspaces/" + ws_ + "/documents?deleted=true";
  EXPECT_NE(HttpCall(port_, "GET", trash, "", alice_.token).body.find(doc_),
            std::string::npos);
  auto listed = [&] {
    return HttpCall(port_, "GET", trash, "", alice_.token).body.find(doc_) !=
           std::string::npos;
  };
  for (int i = 0; i < 100 && listed(); ++i) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_FALSE(listed());
  // Only now: a restore within the retention would bring it back.
  std::string restore = "/api/v1/documents/" + doc_ + "/restore";
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    int status = HttpCall(port_, "POST", restore, "", alice_.token).status;
    EXPECT_TRUE(status == 410 || status == 404) << status;
    gone = status == 404;
    if (!gone) std::this_thread::sleep_for(100ms);
  }
  if (!gone) {
    std::ifstream in(dir_ + "/weftd.log");
    std::string log((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
    ADD_FAILURE() << "the document row is still there; weftd log:\n"
                  << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  }
  ExpectNoContentStored(doc_);
}

TEST_F(WeftdSyncTest, ShutdownPastTheGracePeriodWithALiveSessionExitsCleanly) {
  // A client that neither reads nor answers the close frame keeps its
  // subscription until the grace period ends and the I/O threads stop;
  // the hub must then let go of it before its socket's I/O context goes.
  Kill();
  std::ofstream(dir_ + "/weftd.toml") << "[server]\nshutdown_grace_s = 1\n";
  extra_args_ = {"--config", dir_ + "/weftd.toml"};
  Start();
  SetUpTeam("editor");
  Editor a = Connect(alice_, 11);
  Editor b = Connect(bob_, 22);
  a.Insert(doc_, 0, "Hello");
  a.Await<proto::Ack>();
  int status = StopProcess(pid_, SIGTERM, 20s);
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::ifstream in(dir_ + "/weftd.log");
  std::string log((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("shutdown grace period over"), std::string::npos) << log;
  EXPECT_NE(log.find("\"msg\":\"stopped\""), std::string::npos) << log;
}

}  // namespace
}  // namespace weft::testing
