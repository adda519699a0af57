#include "server/sync_connection.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "proto/codec.h"
#include "server/connection_registry.h"
#include "server/memory_document_log.h"
#include "sync_fakes.h"

namespace weft::server {
namespace {

using namespace std::chrono_literals;

class FakeTransport : public SyncTransport {
 public:
  void Send(std::shared_ptr<const std::string> frame) override {
    if (close_code) return;
    auto m = proto::Decode(*frame);
    ASSERT_TRUE(m.ok());
    messages.push_back(*m);
  }
  void Close(std::uint16_t code, std::string reason) override {
    if (!close_code) close_code = code;
    close_reason = std::move(reason);
  }
  template <typename T>
  std::vector<T> All() const {
    std::vector<T> out;
    for (const auto& m : messages)
      if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
    return out;
  }
  std::vector<proto::Message> messages;
  std::uint16_t close_code = 0;
  std::string close_reason;
};

std::chrono::system_clock::time_point now_value{
    std::chrono::seconds(1'800'000'000)};

// Role checks that wait at `gate` while `gated`: a connection busy with
// a message that waits on the store.
struct GatedAccess : DocumentAccess {
  testing::RoleTable& roles;
  testing::Gate gate;
  std::atomic<bool> gated{true};
  explicit GatedAccess(testing::RoleTable& r) : roles(r) {}
  Result<proto::Role> RoleFor(const std::string& user,
                              const std::string& doc) override {
    if (gated.load()) gate.Pass();
    return roles.RoleFor(user, doc);
  }
};

class SyncConnectionTest : public ::testing::Test {
 protected:
  struct Client {
    std::shared_ptr<FakeTransport> transport;
    std::shared_ptr<SyncConnection> conn;
    void Do(const proto::Message& m) { conn->OnMessage(proto::Encode(m)); }
  };
  // With `auth` and `access` in place of the fixture's (gated ones).
  Client Connect(const std::string& token = "alice-1",
                 SyncAuthenticator* auth = nullptr,
                 DocumentAccess* access = nullptr) {
    Client c{std::make_shared<FakeTransport>(), nullptr};
    c.conn = std::make_shared<SyncConnection>(
        ++sessions_, c.transport, hub_, auth ? *auth : auth_,
        access ? *access : access_, [] { return now_value; });
    registry_.Add(c.conn);
    if (!token.empty()) c.Do(proto::Hello{1, token, "test"});
    return c;
  }
  void SetUp() override {
    auth_.Set("alice-1", Identity{"alice", now_value + 15min});
    auth_.Set("alice-2", Identity{"alice", now_value + 30min});
    auth_.Set("bob", Identity{"bob", now_value + 15min});
    access_.Set("alice", "d1", proto::Role::kEditor);
    access_.Set("bob", "d1", proto::Role::kViewer);
  }
  MemoryDocumentLog log_;
  testing::ListModelFactory models_;
  DocumentHub hub_{log_, models_};
  testing::TokenTable auth_;
  testing::RoleTable access_;
  ConnectionRegistry registry_;
  std::uint64_t sessions_ = 0;
};

TEST_F(SyncConnectionTest, HelloIsAnsweredWithWelcome) {
  auto c = Connect();
  auto w = c.transport->All<proto::Welcome>();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].user_id, "alice");
  EXPECT_EQ(w[0].expires_in_s, 15u * 60);
  EXPECT_EQ(c.transport->close_code, 0);
}

TEST_F(SyncConnectionTest, AnythingBeforeHelloCloses4401) {
  auto c = Connect("");
  c.Do(proto::Subscribe{"d1", 0});
  EXPECT_EQ(c.transport->close_code, 4401);
}

TEST_F(SyncConnectionTest, HelloDeadlineCloses4401OnlyWithoutHello) {
  auto silent = Connect("");
  silent.conn->OnHelloDeadline();
  EXPECT_EQ(silent.transport->close_code, 4401);
  auto greeted = Connect();
  greeted.conn->OnHelloDeadline();
  EXPECT_EQ(greeted.transport->close_code, 0);
}

TEST_F(SyncConnectionTest, RegistrySweepEnforcesTheHelloDeadline) {
  auto silent = Connect("");
  auto greeted = Connect();
  auto opened = std::chrono::steady_clock::now();
  registry_.CheckDeadlines(opened, 10s);  // not yet due
  EXPECT_EQ(silent.transport->close_code, 0);
  registry_.CheckDeadlines(opened + 11s, 10s);
  EXPECT_EQ(silent.transport->close_code, 4401);
  EXPECT_EQ(greeted.transport->close_code, 0);
}

TEST_F(SyncConnectionTest, RegistrySweepClosesExpiredTokens) {
  auto c = Connect("alice-1");
  auto saved = now_value;
  now_value += 16min;
  registry_.CheckDeadlines(std::chrono::steady_clock::now(), 10s);
  EXPECT_EQ(c.transport->close_code, 4402);
  now_value = saved;
}

// A connection handling a message that waits on the store (a subscribe
// asking for the role) does not hold the once-a-second sweep of every
// connection; its own checks come at the next sweep.
TEST_F(SyncConnectionTest, TheDeadlineSweepDoesNotWaitForABusyConnection) {
  GatedAccess access(access_);
  auto client = Connect("alice-1", nullptr, &access);
  auto& transport = client.transport;
  auto& conn = client.conn;
  auto busy = std::async(std::launch::async, [&] {
    conn->OnMessage(proto::Encode(proto::Subscribe{"d1", 0}));
  });
  access.gate.Entered();
  auto sweep = std::async(std::launch::async, [&] {
    registry_.CheckDeadlines(std::chrono::steady_clock::now() + 1h, 10s);
  });
  bool done = sweep.wait_for(5s) == std::future_status::ready;
  access.gate.Open();
  busy.get();
  sweep.get();
  EXPECT_TRUE(done) << "the sweep waited for a connection busy on the store";
  EXPECT_EQ(transport->All<proto::Subscribed>().size(), 1u);
  registry_.Remove(conn.get());
}

// The access feed's thread does not wait for a connection busy with a
// message (a subscribe loading a large document): that one is left due and
// checked by the next retry sweep. (It waited, and every later feed entry
// and retry of every user waited behind it.)
TEST_F(SyncConnectionTest, TheAccessFeedDoesNotWaitForABusyConnection) {
  GatedAccess access(access_);
  access.gated = false;
  access_.Set("alice", "d2", proto::Role::kEditor);
  auto client = Connect("alice-1", nullptr, &access);
  auto& transport = client.transport;
  auto& conn = client.conn;
  conn->OnMessage(proto::Encode(proto::Subscribe{"d1", 0}));
  access.gated = true;
  auto busy = std::async(std::launch::async, [&] {
    conn->OnMessage(proto::Encode(proto::Subscribe{"d2", 0}));
  });
  access.gate.Entered();  // the subscribe holds the connection
  access_.Remove("alice", "d1");
  auto feed = std::async(std::launch::async,
                         [&] { registry_.AccessChangedSoon("alice"); });
  bool done = feed.wait_for(5s) == std::future_status::ready;
  access.gate.Open();
  busy.get();
  feed.get();
  EXPECT_TRUE(done) << "the feed waited for a connection busy on the store";
  EXPECT_TRUE(conn->recheck_due());
  EXPECT_TRUE(transport->All<proto::Unsubscribed>().empty());
  access.gated = false;
  registry_.RetryRechecks();
  auto u = transport->All<proto::Unsubscribed>();
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].doc, "d1");
  EXPECT_FALSE(conn->recheck_due());
  registry_.Remove(conn.get());
}

// The deadline sweep skips a busy connection, so a client that keeps its
// connection busy must not outlive its token: any message but `auth`
// after expiry closes 4402.
TEST_F(SyncConnectionTest, AMessageAfterTheTokenExpiredCloses4402) {
  auto c = Connect("alice-1");
  auto saved = now_value;
  now_value += 16min;
  c.Do(proto::Subscribe{"d1", 0});
  EXPECT_EQ(c.transport->close_code, 4402);
  EXPECT_TRUE(c.transport->All<proto::Subscribed>().empty());
  // A fresh token in time still renews it.
  auto d = Connect("alice-1");
  auth_.Set("alice-3", Identity{"alice", now_value + 15min});
  d.Do(proto::Auth{"alice-3"});
  d.Do(proto::Subscribe{"d1", 0});
  EXPECT_EQ(d.transport->close_code, 0);
  EXPECT_EQ(d.transport->All<proto::Subscribed>().size(), 1u);
  now_value = saved;
}

TEST_F(SyncConnectionTest, SubscribeChurnIsRateLimited) {
  auto c = Connect("alice-1");
  for (int i = 0; i < 400; ++i) {
    c.Do(proto::Subscribe{"d1", 0});
    c.Do(proto::Unsubscribe{"d1"});
  }
  auto errors = c.transport->All<proto::Error>();
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.back().code, 429u);
  // 200 a second, burst 400: about 200 subscribes went through, not 400.
  EXPECT_LE(c.transport->All<proto::Subscribed>().size(), 250u);
  EXPECT_EQ(c.transport->close_code, 0);
  // An unsubscribe is never refused (the client has forgotten the
  // document): with the bucket empty it still ends the subscription, and
  // the document can be subscribed again once the bucket refills.
  auto d = Connect("alice-1");
  d.Do(proto::Subscribe{"d1", 0});
  for (int i = 0; i < 500; ++i) d.Do(proto::Subscribe{"d2", 0});  // spent
  d.Do(proto::Unsubscribe{"d1"});
  EXPECT_FALSE(hub_.HasSubscriber("d1", d.conn.get()));
}

TEST_F(SyncConnectionTest, BadTokenCloses4401) {
  auto c = Connect("forged");
  EXPECT_EQ(c.transport->close_code, 4401);
  EXPECT_TRUE(c.transport->All<proto::Welcome>().empty());
}

TEST_F(SyncConnectionTest, GarbageAndTextClose4400) {
  auto c = Connect();
  c.conn->OnMessage("\xff\x00garbage");
  EXPECT_EQ(c.transport->close_code, 4400);
  auto d = Connect();
  d.conn->OnTextMessage();
  EXPECT_EQ(d.transport->close_code, 4400);
  auto e = Connect();
  e.Do(proto::Ack{"d1", {}});  // a server message from a client
  EXPECT_EQ(e.transport->close_code, 4400);
}

TEST_F(SyncConnectionTest, UnknownDocumentIsNotFoundWithoutLeakingExistence) {
  auto c = Connect();
  c.Do(proto::Subscribe{"secret", 0});
  auto e = c.transport->All<proto::Error>();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, 404u);
  EXPECT_EQ(c.transport->close_code, 0);  // the connection lives on
}

TEST_F(SyncConnectionTest, EditorSubmitsViewerIsRefused) {
  auto alice = Connect("alice-1");
  auto bob = Connect("bob");
  alice.Do(proto::Subscribe{"d1", 0});
  bob.Do(proto::Subscribe{"d1", 0});
  alice.Do(proto::Submit{"d1", {{1, 0, 1, "x"}}});
  EXPECT_EQ(alice.transport->All<proto::Ack>().size(), 1u);
  EXPECT_EQ(bob.transport->All<proto::Ops>().size(), 1u);
  bob.Do(proto::Submit{"d1", {{2, 0, 1, "y"}}});
  auto e = bob.transport->All<proto::Error>();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, 403u);
}

TEST_F(SyncConnectionTest, SubmitWithoutSubscriptionIsRefused) {
  auto c = Connect();
  c.Do(proto::Submit{"d1", {{1, 0, 1, "x"}}});
  EXPECT_EQ(c.transport->All<proto::Error>().at(0).code, 404u);
}

TEST_F(SyncConnectionTest, PingPong) {
  auto c = Connect();
  c.Do(proto::Ping{99});
  EXPECT_EQ(c.transport->All<proto::Pong>().at(0).nonce, 99u);
}

TEST_F(SyncConnectionTest, ReauthExtendsExpiryAndExpiredTokenCloses4402) {
  auto c = Connect("alice-1");
  c.Do(proto::Auth{"alice-2"});
  EXPECT_EQ(c.transport->All<proto::Welcome>().back().expires_in_s, 30u * 60);
  auto saved = now_value;
  now_value += 20min;
  c.conn->CheckExpiry();
  EXPECT_EQ(c.transport->close_code, 0);  // the new token is still valid
  now_value += 20min;
  registry_.CheckDeadlines(std::chrono::steady_clock::now(), 10s);
  EXPECT_EQ(c.transport->close_code, 4402);
  now_value = saved;
}

TEST_F(SyncConnectionTest, ReauthAsAnotherUserCloses) {
  auto c = Connect("alice-1");
  c.Do(proto::Auth{"bob"});
  EXPECT_EQ(c.transport->close_code, 4401);
}

TEST_F(SyncConnectionTest, LiveDowngradeAndRemoval) {
  auto alice = Connect("alice-1");
  alice.Do(proto::Subscribe{"d1", 0});
  access_.Set("alice", "d1", proto::Role::kViewer);
  registry_.AccessChanged("alice");
  alice.Do(proto::Submit{"d1", {{1, 0, 1, "x"}}});
  EXPECT_EQ(alice.transport->All<proto::Error>().at(0).code, 403u);

  access_.Remove("alice", "d1");
  registry_.AccessChanged("alice");
  auto u = alice.transport->All<proto::Unsubscribed>();
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].code, 410u);
  alice.Do(proto::Submit{"d1", {{1, 0, 1, "x"}}});
  EXPECT_EQ(alice.transport->All<proto::Error>().back().code, 404u);
  alice.Do(proto::Presence{"d1", "{}"});
  EXPECT_EQ(alice.transport->All<proto::Error>().back().code, 404u);
}

// A check that could not reach the store keeps the session as it was and
// is made again with the next retry sweep: a removal or a password reset
// made while the store was down still takes effect once it answers (the
// change that asked for the check is not announced again).
TEST_F(SyncConnectionTest, AnAccessCheckTheStoreCouldNotAnswerIsMadeAgain) {
  auto alice = Connect("alice-1");
  alice.Do(proto::Subscribe{"d1", 0});
  access_.Remove("alice", "d1");
  access_.Fail(Status::Unavailable("store down"));
  registry_.AccessChanged("alice");
  EXPECT_TRUE(alice.transport->All<proto::Unsubscribed>().empty());
  EXPECT_TRUE(alice.conn->recheck_due());
  registry_.RetryRechecks();  // still down: still due
  EXPECT_TRUE(alice.conn->recheck_due());
  EXPECT_TRUE(alice.transport->All<proto::Unsubscribed>().empty());
  access_.Fail(Status::Ok());
  registry_.RetryRechecks();
  auto u = alice.transport->All<proto::Unsubscribed>();
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].code, 410u);
  EXPECT_FALSE(alice.conn->recheck_due());

  auto again = Connect("alice-2");
  auth_.Fail(Status::Unavailable("store down"));
  auth_.Retire("alice");
  registry_.AccessChanged("alice");
  EXPECT_EQ(again.transport->close_code, 0);
  auth_.Fail(Status::Ok());
  registry_.RetryRechecks();
  EXPECT_EQ(again.transport->close_code, 4401);
}

TEST_F(SyncConnectionTest, APasswordChangeEndsTheUsersLiveSessions) {
  auto alice = Connect("alice-1");
  auto bob = Connect("bob");
  alice.Do(proto::Subscribe{"d1", 0});
  auth_.Retire("alice");
  registry_.AccessChanged("alice");
  EXPECT_EQ(alice.transport->close_code, 4401);
  EXPECT_NE(alice.transport->close_reason.find("password"), std::string::npos);
  EXPECT_EQ(bob.transport->close_code, 0);
}

// A message that came while a password change was being checked for the
// connection (it waits for the connection's lock, past its closing check)
// is not acted on: the submit slipped in between the check's "ended" and
// the close, and was stored and broadcast.
TEST_F(SyncConnectionTest, AMessageWaitingWhileTheSessionEndsIsNotActedOn) {
  struct GatedAuth : SyncAuthenticator {
    testing::TokenTable& tokens;
    testing::Gate gate;
    std::atomic<bool> gated{false};
    explicit GatedAuth(testing::TokenTable& t) : tokens(t) {}
    Result<Identity> Authenticate(std::string_view token) override {
      return tokens.Authenticate(token);
    }
    Status StillValid(const Identity& identity) override {
      if (gated.load()) gate.Pass();
      return tokens.StillValid(identity);
    }
  } auth(auth_);
  auto client = Connect("alice-1", &auth, nullptr);
  auto& transport = client.transport;
  auto& conn = client.conn;
  conn->OnMessage(proto::Encode(proto::Subscribe{"d1", 0}));
  auto bob = Connect("bob");
  bob.Do(proto::Subscribe{"d1", 0});
  auth_.Retire("alice");
  auth.gated = true;
  auto check = std::async(std::launch::async, [&] { conn->RecheckAccess(); });
  auth.gate.Entered();  // the check holds the connection's lock
  auto submit = std::async(std::launch::async, [&] {
    conn->OnMessage(proto::Encode(proto::Submit{"d1", {{1, 0, 1, "x"}}}));
  });
  while (!conn->handling()) std::this_thread::yield();
  std::this_thread::sleep_for(50ms);  // to the lock (ordering, not timing)
  auth.gate.Open();
  check.get();
  submit.get();
  EXPECT_EQ(transport->close_code, 4401);
  EXPECT_TRUE(bob.transport->All<proto::Ops>().empty());
  registry_.Remove(conn.get());
}

// The access feed looks for a user's connections by user id, which a
// connection has only once its hello is through: a password change made
// while the hello's token was being checked must still end it.
TEST_F(SyncConnectionTest, APasswordChangeDuringHelloEndsTheSession) {
  auth_.AfterNextAuthenticate([this] {
    auth_.Retire("alice");
    registry_.AccessChanged("alice");
  });
  auto alice = Connect("alice-1");
  EXPECT_EQ(alice.transport->close_code, 4401);
  EXPECT_TRUE(alice.transport->All<proto::Welcome>().empty());
}

// When the hub drops a document (its durable state no longer loads), its
// subscribers get unsubscribed 503, which allows subscribing again: the
// connection must not answer "already subscribed", nor a submit or
// presence that crossed the drop with "not found" (a client forgets its
// edits on 404).
TEST_F(SyncConnectionTest, ADroppedDocumentCanBeSubscribedAgain) {
  auto alice = Connect();
  alice.Do(proto::Subscribe{"d1", 0});
  alice.Do(proto::Submit{"d1", {{1, 0, 1, "x"}}});
  ASSERT_EQ(alice.transport->All<proto::Ack>().size(), 1u);
  log_.FailNextAppends(1);  // the hub drops the document to read it again
  alice.Do(proto::Submit{"d1", {{1, 1, 1, "y"}}});
  auto u = alice.transport->All<proto::Unsubscribed>();
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].code, 503u);
  // A submit or presence sent before the client saw that: retryable.
  alice.Do(proto::Submit{"d1", {{1, 1, 1, "y"}}});
  EXPECT_EQ(alice.transport->All<proto::Error>().back().code, 503u);
  alice.Do(proto::Presence{"d1", "{}"});
  EXPECT_EQ(alice.transport->All<proto::Error>().back().code, 503u);
  alice.Do(proto::Subscribe{"d1", 1});
  ASSERT_EQ(alice.transport->All<proto::Subscribed>().size(), 2u);
  for (const auto& e : alice.transport->All<proto::Error>()) {
    EXPECT_NE(e.message, "already subscribed");
  }
  alice.Do(proto::Submit{"d1", {{1, 1, 1, "y"}}});
  EXPECT_EQ(alice.transport->All<proto::Ack>().size(), 2u);
}

TEST_F(SyncConnectionTest, SubmitFloodIsRateLimited) {
  auto c = Connect();
  c.Do(proto::Subscribe{"d1", 0});
  for (int i = 0; i < 1000; ++i) {
    c.Do(proto::Submit{"d1", {{1, static_cast<std::uint64_t>(i), 1, "x"}}});
  }
  int limited = 0;
  for (const auto& e : c.transport->All<proto::Error>())
    limited += e.code == 429;
  EXPECT_GT(limited, 0);
  EXPECT_LT(c.transport->All<proto::Ack>().size(), 1000u);
}

// Each refused change rebuilds the document under its lock: a client
// that keeps sending them is closed, not answered 200 times a second.
TEST_F(SyncConnectionTest, AStreamOfRefusedChangesCloses4400) {
  auto c = Connect();
  c.Do(proto::Subscribe{"d1", 0});
  int refused = 0;
  for (int i = 0; i < 20 && c.transport->close_code == 0; ++i) {
    c.Do(proto::Submit{"d1", {{1, 0, 1, "bad"}}});
    ++refused;
  }
  EXPECT_EQ(c.transport->close_code, 4400);
  EXPECT_LE(refused, 5);  // the burst (4), then the one over it
  int invalid = 0;
  for (const auto& e : c.transport->All<proto::Error>())
    invalid += e.code == 422;
  EXPECT_EQ(invalid, refused);
  // Another connection of the same user is not affected.
  auto d = Connect();
  d.Do(proto::Subscribe{"d1", 0});
  d.Do(proto::Submit{"d1", {{2, 0, 1, "x"}}});
  EXPECT_EQ(d.transport->close_code, 0);
  EXPECT_EQ(d.transport->All<proto::Ack>().size(), 1u);
}

// A store that cannot answer is not a bad token: at hello the connection
// closes 4503 (the client reconnects later, credentials kept); an `auth`
// gets unavailable and the current token stands.
TEST_F(SyncConnectionTest, AStoreThatCannotCheckATokenIsNotABadToken) {
  auth_.FailAuthenticate(Status::Unavailable("store down"));
  auto c = Connect("alice-1");
  EXPECT_EQ(c.transport->close_code, 4503);
  auth_.FailAuthenticate(Status::Ok());
  auto d = Connect("alice-1");
  ASSERT_EQ(d.transport->close_code, 0);
  auth_.FailAuthenticate(Status::Unavailable("store down"));
  d.Do(proto::Auth{"alice-2"});
  EXPECT_EQ(d.transport->close_code, 0);
  ASSERT_EQ(d.transport->All<proto::Error>().size(), 1u);
  EXPECT_EQ(d.transport->All<proto::Error>()[0].code, 503u);
  auth_.FailAuthenticate(Status::Ok());
  d.Do(proto::Subscribe{"d1", 0});
  EXPECT_EQ(d.transport->All<proto::Subscribed>().size(), 1u);
}

// Each auth reads the store: a flood of them is refused, not served.
TEST_F(SyncConnectionTest, AuthMessagesAreRateLimited) {
  auto c = Connect("alice-1");
  for (int i = 0; i < 5; ++i) c.Do(proto::Auth{"alice-2"});
  EXPECT_EQ(c.transport->close_code, 0);
  // welcome for hello, then two auths (the burst); the rest refused.
  EXPECT_EQ(c.transport->All<proto::Welcome>().size(), 3u);
  int limited = 0;
  for (const auto& e : c.transport->All<proto::Error>())
    limited += e.code == 429;
  EXPECT_EQ(limited, 3);
}

// The budget is per document: a client reopening several documents whose
// stale local changes are each refused once is not closed.
TEST_F(SyncConnectionTest, OneRefusedChangeInEachOfManyDocumentsIsNotAStream) {
  auto c = Connect();
  for (int i = 1; i <= 8; ++i) {
    std::string doc = "s" + std::to_string(i);
    access_.Set("alice", doc, proto::Role::kEditor);
    c.Do(proto::Subscribe{doc, 0});
    c.Do(proto::Submit{doc, {{1, 0, 1, "bad"}}});
  }
  EXPECT_EQ(c.transport->close_code, 0);
  int invalid = 0;
  for (const auto& e : c.transport->All<proto::Error>())
    invalid += e.code == 422;
  EXPECT_EQ(invalid, 8);
  // But the whole connection has a budget too (burst 16): many documents
  // do not multiply the rebuilds one client can cause.
  for (int i = 9; i <= 40 && c.transport->close_code == 0; ++i) {
    std::string doc = "s" + std::to_string(i);
    access_.Set("alice", doc, proto::Role::kEditor);
    c.Do(proto::Subscribe{doc, 0});
    c.Do(proto::Submit{doc, {{1, 0, 1, "bad"}}});
  }
  EXPECT_EQ(c.transport->close_code, 4400);
}

TEST_F(SyncConnectionTest, EveryMessageIsASignOfLife) {
  auto alice = Connect("alice-1");
  auto before = alice.conn->last_heard();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  alice.Do(proto::Ping{7});
  auto after_ping = alice.conn->last_heard();
  EXPECT_GT(after_ping, before);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  alice.conn->Heard();  // what the transport calls for a pong
  EXPECT_GT(alice.conn->last_heard(), after_ping);
}

TEST_F(SyncConnectionTest, CloseUnsubscribesEverything) {
  auto alice = Connect("alice-1");
  auto bob = Connect("bob");
  alice.Do(proto::Subscribe{"d1", 0});
  bob.Do(proto::Subscribe{"d1", 0});
  alice.Do(proto::Presence{"d1", "{\"cursor\":1}"});
  hub_.FlushPresence();
  EXPECT_EQ(bob.transport->All<proto::PresenceOf>().size(), 1u);
  alice.conn->OnClosed();
  EXPECT_EQ(bob.transport->All<proto::PresenceGone>().size(), 1u);
}

}  // namespace
}  // namespace weft::server
