#include "server/document_hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <thread>

#include "proto/codec.h"
#include "server/memory_document_log.h"
#include "sync_fakes.h"

namespace weft::server {
namespace {

using testing::ListModelFactory;

// A memory log whose appends a subclass intercepts.
class WrappedLog : public DocumentLog {
 public:
  void SaveSnapshot(const std::string& doc, StoredSnapshot s,
                    SnapshotDone done) override {
    inner.SaveSnapshot(doc, std::move(s), std::move(done));
  }
  Result<DocumentHistory> Read(const std::string& doc) override {
    return inner.Read(doc);
  }
  MemoryDocumentLog inner;
};

// Holds appends until Release(), to see what happens before durability.
class HeldLog : public WrappedLog {
 public:
  void Append(const std::string& doc, std::vector<ChangeToLog> changes,
              AppendDone done) override {
    held_.push_back([this, doc, changes = std::move(changes),
                     done = std::move(done)]() mutable {
      inner.Append(doc, std::move(changes), std::move(done));
    });
  }
  // Completes the oldest held append; false when none is held.
  bool Release() {
    if (held_.empty()) return false;
    auto f = std::move(held_.front());
    held_.pop_front();
    f();
    return true;
  }

 private:
  std::deque<std::function<void()>> held_;
};

class Recorder : public Subscriber {
 public:
  explicit Recorder(std::uint64_t session, std::string user = "")
      : session_(session), user_(std::move(user)) {}
  std::string user_id() const override { return user_; }
  void Send(std::shared_ptr<const std::string> frame) override {
    auto m = proto::Decode(*frame);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    messages.push_back(*m);
  }
  std::uint64_t session_id() const override { return session_; }
  std::chrono::steady_clock::time_point last_heard() const override {
    return heard;
  }

  template <typename T>
  std::vector<T> All() const {
    std::vector<T> out;
    for (const auto& m : messages)
      if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
    return out;
  }
  std::vector<proto::Message> messages;
  std::chrono::steady_clock::time_point heard =
      std::chrono::steady_clock::time_point::max();

 private:
  std::uint64_t session_;
  std::string user_;
};

proto::Change C(std::uint64_t client, std::uint64_t seq, std::string update,
                std::uint64_t span = 1) {
  return proto::Change{client, seq, span, std::move(update)};
}

class DocumentHubTest : public ::testing::Test {
 protected:
  std::shared_ptr<Recorder> Join(std::uint64_t session, std::uint64_t since = 0,
                                 proto::Role role = proto::Role::kEditor,
                                 std::string user = "") {
    auto r = std::make_shared<Recorder>(session, std::move(user));
    EXPECT_TRUE(hub_.Subscribe("doc", since, role, r).ok());
    return r;
  }
  MemoryDocumentLog log_;
  ListModelFactory models_;
  HubConfig config_;
  DocumentHub hub_{log_, models_, config_};
};

TEST_F(DocumentHubTest, SubscribeToEmptyDocument) {
  auto a = Join(1);
  ASSERT_EQ(a->messages.size(), 2u);
  EXPECT_EQ(std::get<proto::Subscribed>(a->messages[0]),
            (proto::Subscribed{"doc", proto::Role::kEditor, 0}));
  EXPECT_EQ(std::get<proto::Synced>(a->messages[1]), (proto::Synced{"doc", 0}));
}

TEST_F(DocumentHubTest, SubmitIsAckedAndBroadcastToEverySubscriber) {
  auto a = Join(1);
  auto b = Join(2);
  EXPECT_FALSE(hub_.Submit("doc", a.get(), {C(7, 0, "x", 3), C(7, 3, "y")}));
  auto acks = a->All<proto::Ack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].entries,
            (std::vector<proto::AckEntry>{{7, 0, 1}, {7, 3, 2}}));
  for (auto* r : {a.get(), b.get()}) {
    auto ops = r->All<proto::Ops>();
    ASSERT_EQ(ops.size(), 1u);
    EXPECT_EQ(ops[0].first_seq, 1u);
    EXPECT_EQ(ops[0].changes,
              (std::vector<proto::Change>{C(7, 0, "x", 3), C(7, 3, "y")}));
  }
  EXPECT_TRUE(b->All<proto::Ack>().empty());
  EXPECT_EQ(*hub_.ContentJson("doc"), "[\"x\",\"y\"]");
}

// A hub on a HeldLog (each append waits for Release) with two editors of
// "doc", a and b.
struct HeldHub {
  explicit HeldHub(testing::ListModelFactory& models) : hub(held, models) {
    EXPECT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, a).ok());
    EXPECT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, b).ok());
  }
  HeldLog held;
  DocumentHub hub;
  std::shared_ptr<Recorder> a = std::make_shared<Recorder>(1);
  std::shared_ptr<Recorder> b = std::make_shared<Recorder>(2);
};

TEST_F(DocumentHubTest, NothingIsAcknowledgedOrBroadcastBeforeDurable) {
  HeldHub h(models_);
  auto& [held, hub, a, b] = h;
  EXPECT_FALSE(hub.Submit("doc", a.get(), {C(1, 0, "x")}));
  EXPECT_FALSE(hub.Submit("doc", a.get(), {C(1, 1, "y")}));  // next batch
  EXPECT_TRUE(a->All<proto::Ack>().empty());
  EXPECT_TRUE(b->All<proto::Ops>().empty());
  EXPECT_EQ(held.inner.EntryCount("doc"), 0u);

  ASSERT_TRUE(held.Release());  // first batch durable
  EXPECT_EQ(held.inner.EntryCount("doc"), 1u);
  ASSERT_EQ(a->All<proto::Ack>().size(), 1u);
  ASSERT_EQ(b->All<proto::Ops>().size(), 1u);
  ASSERT_TRUE(held.Release());  // the change queued meanwhile
  EXPECT_EQ(a->All<proto::Ack>().size(), 2u);
  EXPECT_EQ(b->All<proto::Ops>().back().first_seq, 2u);
  EXPECT_FALSE(held.Release());
}

// Completes the held append from another thread 50 ms from now, as a
// store's commit would; `done` once it has.
struct LateCommit {
  explicit LateCommit(HeldLog& held)
      : thread([this, &held] {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          held.Release();
          done = true;
        }) {}
  ~LateCommit() { thread.join(); }
  std::atomic<bool> done{false};
  std::thread thread;
};

TEST_F(DocumentHubTest, ShutdownWaitsForAppendsThenLetsGoOfSubscribers) {
  HeldHub h(models_);
  auto& [held, hub, a, b] = h;
  EXPECT_FALSE(hub.Submit("doc", a.get(), {C(1, 0, "x")}));  // in flight
  EXPECT_GT(a.use_count(), 1);
  // The commit ends on the store's thread while the server shuts down.
  {
    LateCommit commit(held);
    hub.Shutdown();
    EXPECT_TRUE(commit.done.load()) << "returned before the append ended";
  }
  EXPECT_EQ(a->All<proto::Ack>().size(), 1u);
  EXPECT_EQ(a.use_count(), 1) << "the hub holds no subscriber any more";
  EXPECT_EQ(held.inner.EntryCount("doc"), 1u);
}

// A document dropped while its append is in flight (a refused change
// whose rebuild failed) is no longer in the hub's map, but its append's
// callback still uses the hub: shutdown waits for it too.
TEST_F(DocumentHubTest, ShutdownWaitsForTheAppendOfADroppedDocument) {
  HeldHub h(models_);
  auto& [held, hub, a, b] = h;
  EXPECT_FALSE(hub.Submit("doc", a.get(), {C(1, 0, "x")}));  // in flight
  models_.fail_loads = 1;  // the refusal's rebuild fails: Drop
  auto err = hub.Submit("doc", b.get(), {C(2, 0, "bad")});
  ASSERT_TRUE(err);
  ASSERT_EQ(hub.loaded_documents(), 0u);
  EXPECT_TRUE(hub.AnyAppendInFlight()) << "what the server's drain asks";
  {
    LateCommit commit(held);
    hub.Shutdown();
    EXPECT_TRUE(commit.done.load()) << "returned before the append ended";
  }
}

TEST_F(DocumentHubTest, ForgetUnsubscribesAndWaitsForTheAppendInFlight) {
  HeldHub h(models_);
  auto& [held, hub, a, b] = h;
  EXPECT_FALSE(hub.Submit("doc", a.get(), {C(1, 0, "x")}));  // in flight
  {
    LateCommit commit(held);
    EXPECT_TRUE(hub.Forget("doc"));
    EXPECT_TRUE(commit.done.load()) << "returned before the append ended";
  }
  auto u = a->All<proto::Unsubscribed>();
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].code,
            static_cast<std::uint64_t>(proto::ErrorCode::kAccessRemoved));
  EXPECT_EQ(hub.loaded_documents(), 0u);
  EXPECT_TRUE(hub.Forget("never loaded"));  // nothing to do
}

// An append that does not end in time (a stalled store): Forget says so,
// and the caller does not delete the document's content under it.
TEST_F(DocumentHubTest, ForgetSaysWhenAnAppendIsStillInFlight) {
  HeldHub h(models_);
  auto& [held, hub, a, b] = h;
  EXPECT_FALSE(hub.Submit("doc", a.get(), {C(1, 0, "x")}));  // in flight
  EXPECT_FALSE(hub.Forget("doc", std::chrono::milliseconds(20)));
  // Tried again (the purge sweep): the document was dropped by the first
  // try, and its append still counts.
  EXPECT_FALSE(hub.Forget("doc", std::chrono::milliseconds(20)));
  ASSERT_TRUE(held.Release());
  EXPECT_TRUE(hub.Forget("doc", std::chrono::milliseconds(20)));
}

TEST_F(DocumentHubTest, AFloodIsAppendedInBoundedSlices) {
  HeldLog held;
  HubConfig config;
  config.max_append_changes = 3;
  DocumentHub hub(held, models_, config);
  auto a = std::make_shared<Recorder>(1);
  auto b = std::make_shared<Recorder>(2);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, a).ok());
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, b).ok());
  EXPECT_FALSE(hub.Submit("doc", a.get(), {C(1, 0, "x")}));  // in flight
  // Three submits of two changes queue meanwhile; the next appends take
  // whole submits up to three changes: two each.
  for (std::uint64_t s = 1; s <= 5; s += 2) {
    EXPECT_FALSE(hub.Submit("doc", a.get(), {C(1, s, "y"), C(1, s + 1, "z")}));
  }
  std::vector<std::size_t> per_append;
  std::size_t before = 0;
  while (held.Release()) {
    std::size_t now = held.inner.EntryCount("doc");
    per_append.push_back(now - before);
    before = now;
  }
  EXPECT_EQ(per_append, (std::vector<std::size_t>{1, 2, 2, 2}));
  EXPECT_EQ(a->All<proto::Ack>().size(), 4u);
  // Every change reached the other subscriber once, in sequence order.
  std::uint64_t next = 1;
  for (const auto& ops : b->All<proto::Ops>()) {
    EXPECT_EQ(ops.first_seq, next);
    next += ops.changes.size();
  }
  EXPECT_EQ(next, 8u);
}

TEST_F(DocumentHubTest, RetriedChangeGetsItsOriginalSeqAndIsNotBroadcast) {
  auto a = Join(1);
  auto b = Join(2);
  hub_.Submit("doc", a.get(), {C(1, 0, "x")});
  hub_.Submit("doc", a.get(), {C(1, 0, "x")});
  auto acks = a->All<proto::Ack>();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[1].entries[0].server_seq, 1u);
  EXPECT_EQ(b->All<proto::Ops>().size(), 1u);
  EXPECT_EQ(log_.EntryCount("doc"), 1u);
  EXPECT_EQ(*hub_.ContentJson("doc"), "[\"x\"]");
}

// A "retry" that starts inside an earlier change is no change the log
// holds: the store would log it under a new seq and every subscriber would
// get its bytes. Its update is checked like any other.
TEST_F(DocumentHubTest, ARetryWhoseUpdateTheModelRefusesIsRefused) {
  auto a = Join(1);
  auto b = Join(2);
  hub_.Submit("doc", a.get(), {C(1, 0, "x", 5)});
  auto err = hub_.Submit("doc", a.get(), {C(1, 2, "bad")});
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code,
            static_cast<std::uint64_t>(proto::ErrorCode::kInvalidUpdate));
  EXPECT_EQ(log_.EntryCount("doc"), 1u);
  EXPECT_EQ(b->All<proto::Ops>().size(), 1u);
  EXPECT_EQ(*hub_.ContentJson("doc"), "[\"x\"]");
  // The honest retry is still acknowledged with its seq.
  EXPECT_FALSE(hub_.Submit("doc", a.get(), {C(1, 0, "x", 5)}));
  EXPECT_EQ(a->All<proto::Ack>().back().entries[0].server_seq, 1u);
}

TEST_F(DocumentHubTest, AClientIdBelongsToTheUserWhoFirstWroteWithIt) {
  auto alice = Join(1, 0, proto::Role::kEditor, "alice");
  auto mallory = Join(2, 0, proto::Role::kEditor, "mallory");
  EXPECT_FALSE(hub_.Submit("doc", alice.get(), {C(7, 0, "a", 2)}));
  // Mallory writes alice's next seq: refused, so alice's own next change
  // is not then refused as overlapping. Nor may she resend alice's change.
  for (const auto& forged : {C(7, 2, "m"), C(7, 0, "a", 2)}) {
    auto err = hub_.Submit("doc", mallory.get(), {C(9, 0, "ok"), forged});
    ASSERT_TRUE(err);
    EXPECT_EQ(err->code,
              static_cast<std::uint64_t>(proto::ErrorCode::kInvalidUpdate));
    EXPECT_NE(err->message.find("belongs to another user"), std::string::npos)
        << err->message;
  }
  EXPECT_FALSE(hub_.Submit("doc", alice.get(), {C(7, 2, "b")}));
  EXPECT_EQ(*hub_.ContentJson("doc"), "[\"a\",\"ok\",\"b\"]");
  // Client 9 is mallory's now, also for alice.
  EXPECT_TRUE(hub_.Submit("doc", alice.get(), {C(9, 1, "x")}));

  // The same after the document is unloaded and loaded again from the log.
  hub_.Unsubscribe("doc", alice.get());
  hub_.Unsubscribe("doc", mallory.get());
  ASSERT_EQ(hub_.UnloadIdle(), 1u);
  mallory = Join(3, 0, proto::Role::kEditor, "mallory");
  alice = Join(4, 0, proto::Role::kEditor, "alice");
  EXPECT_TRUE(hub_.Submit("doc", mallory.get(), {C(7, 3, "m")}));
  EXPECT_TRUE(hub_.Submit("doc", alice.get(), {C(9, 1, "x")}));
  EXPECT_FALSE(hub_.Submit("doc", alice.get(), {C(7, 3, "c")}));
  EXPECT_FALSE(hub_.Submit("doc", mallory.get(), {C(9, 1, "n")}));
  EXPECT_EQ(*hub_.ContentJson("doc"), "[\"a\",\"ok\",\"b\",\"c\",\"n\"]");
}

TEST_F(DocumentHubTest, GapIsRefusedWithTheSeqToResumeFrom) {
  auto a = Join(1);
  auto err = hub_.Submit("doc", a.get(), {C(1, 0, "x"), C(1, 5, "y")});
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code,
            static_cast<std::uint64_t>(proto::ErrorCode::kOutOfOrder));
  EXPECT_EQ(err->expected_seq, 1u);
  EXPECT_EQ(*hub_.ContentJson("doc"), "[\"x\"]");  // the change before stays
}

TEST_F(DocumentHubTest, ViewerCannotSubmit) {
  auto v = Join(1, 0, proto::Role::kViewer);
  auto err = hub_.Submit("doc", v.get(), {C(1, 0, "x")});
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code,
            static_cast<std::uint64_t>(proto::ErrorCode::kForbidden));
  EXPECT_EQ(log_.EntryCount("doc"), 0u);
}

TEST_F(DocumentHubTest, InvalidUpdateIsRefusedAndLeavesOthersIntact) {
  auto a = Join(1);
  hub_.Submit("doc", a.get(), {C(1, 0, "x")});
  auto err = hub_.Submit("doc", a.get(), {C(2, 0, "y"), C(3, 0, "bad")});
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code,
            static_cast<std::uint64_t>(proto::ErrorCode::kInvalidUpdate));
  EXPECT_EQ(*hub_.ContentJson("doc"), "[\"x\",\"y\"]");
  EXPECT_EQ(log_.EntryCount("doc"), 2u);
}

TEST_F(DocumentHubTest, ARefusalWhoseRebuildFailsDropsTheDocument) {
  auto a = Join(1);
  hub_.Submit("doc", a.get(), {C(1, 0, "x")});
  models_.fail_loads = 1;  // durable state no longer loads
  auto err = hub_.Submit("doc", a.get(), {C(2, 0, "bad")});
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code,
            static_cast<std::uint64_t>(proto::ErrorCode::kUnavailable));
  auto u = a->All<proto::Unsubscribed>();
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].code,
            static_cast<std::uint64_t>(proto::ErrorCode::kUnavailable));
  EXPECT_EQ(hub_.loaded_documents(), 0u);
  EXPECT_EQ(*hub_.ContentJson("doc"), "[\"x\"]");  // loaded again
}

TEST_F(DocumentHubTest, RefusedFirstChangeAppendsNothing) {
  auto a = Join(1);
  auto err = hub_.Submit("doc", a.get(), {C(3, 0, "bad")});
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code,
            static_cast<std::uint64_t>(proto::ErrorCode::kInvalidUpdate));
  // No empty batch went to the log (which would answer with an error).
  EXPECT_TRUE(a->All<proto::Error>().empty());
  EXPECT_TRUE(a->All<proto::Ack>().empty());
}

TEST_F(DocumentHubTest, FailedAppendAcknowledgesNothingAndRetrySucceeds) {
  auto a = Join(1);
  auto b = Join(2);
  log_.FailNextAppends(1);
  EXPECT_FALSE(hub_.Submit("doc", a.get(), {C(1, 0, "x")}));
  EXPECT_TRUE(a->All<proto::Ack>().empty());
  EXPECT_TRUE(b->All<proto::Ops>().empty());
  auto errors = a->All<proto::Error>();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code,
            static_cast<std::uint64_t>(proto::ErrorCode::kUnavailable));
  // The document is loaded again from the log, which does not have it:
  // everyone subscribes again, and the client's resend is accepted.
  for (auto* r : {a.get(), b.get()}) {
    ASSERT_EQ(r->All<proto::Unsubscribed>().size(), 1u);
    EXPECT_EQ(r->All<proto::Unsubscribed>()[0].code,
              static_cast<std::uint64_t>(proto::ErrorCode::kUnavailable));
  }
  EXPECT_EQ(*hub_.ContentJson("doc"), "[]");
  a = Join(3);
  b = Join(4);
  EXPECT_FALSE(hub_.Submit("doc", a.get(), {C(1, 0, "x")}));
  EXPECT_EQ(a->All<proto::Ack>().at(0).entries[0].server_seq, 1u);
  EXPECT_EQ(b->All<proto::Ops>().size(), 1u);
}

TEST_F(DocumentHubTest, WhatCrossedADropIsUnavailableAlsoAfterAReload) {
  auto a = Join(1);
  auto b = Join(2);
  log_.FailNextAppends(1);
  EXPECT_FALSE(hub_.Submit("doc", b.get(), {C(2, 0, "x")}));  // dropped
  // B subscribes again at once and so loads the document again; A's
  // submit and presence were on their way before its `unsubscribed`
  // reached it. They must be retryable (503), not "not subscribed" (404),
  // on which a client gives the document up.
  auto b2 = Join(3);
  auto submit = hub_.Submit("doc", a.get(), {C(1, 0, "y")});
  ASSERT_TRUE(submit.has_value());
  EXPECT_EQ(submit->code,
            static_cast<std::uint64_t>(proto::ErrorCode::kUnavailable));
  auto presence = hub_.SetPresence("doc", a.get(), "{}");
  ASSERT_TRUE(presence.has_value());
  EXPECT_EQ(presence->code,
            static_cast<std::uint64_t>(proto::ErrorCode::kUnavailable));
  EXPECT_EQ(*hub_.ContentJson("doc"), "[]");
}

// A log that stores the first batch and reports a failure all the same,
// as a connection lost while COMMIT was on its way does.
class UnknownOutcomeLog : public WrappedLog {
 public:
  void Append(const std::string& doc, std::vector<ChangeToLog> changes,
              AppendDone done) override {
    bool lie = !lied_;
    lied_ = true;
    inner.Append(
        doc, std::move(changes),
        [lie, done = std::move(done)](Result<std::vector<std::uint64_t>> r) {
          if (lie) {
            done(Status::Unavailable("commit: server closed the connection"));
          } else {
            done(std::move(r));
          }
        });
  }

 private:
  bool lied_ = false;
};

TEST_F(DocumentHubTest, AnAppendOfUnknownOutcomeIsReadBackFromTheLog) {
  UnknownOutcomeLog log;
  DocumentHub hub(log, models_);
  auto a = std::make_shared<Recorder>(1);
  auto b = std::make_shared<Recorder>(2);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, a).ok());
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, b).ok());
  EXPECT_FALSE(hub.Submit("doc", a.get(), {C(1, 0, "x")}));  // stored at 1
  EXPECT_EQ(a->All<proto::Error>().size(), 1u);
  EXPECT_EQ(b->All<proto::Unsubscribed>().size(), 1u);
  // b carries on (subscribing again) before a resends: its change comes
  // after x in the log, and the hub must know x is there.
  b = std::make_shared<Recorder>(3);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, b).ok());
  EXPECT_EQ(b->All<proto::Ops>().at(0).changes, std::vector{C(1, 0, "x")});
  EXPECT_FALSE(hub.Submit("doc", b.get(), {C(2, 0, "y")}));
  EXPECT_EQ(b->All<proto::Ack>().at(0).entries[0].server_seq, 2u);
  a = std::make_shared<Recorder>(4);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, a).ok());
  EXPECT_FALSE(hub.Submit("doc", a.get(), {C(1, 0, "x")}));  // the resend
  EXPECT_EQ(a->All<proto::Ack>().at(0).entries[0].server_seq, 1u);
  EXPECT_EQ(*hub.ContentJson("doc"), "[\"x\",\"y\"]");
  // A newcomer gets the log's two changes under their seqs.
  auto c = std::make_shared<Recorder>(5);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, c).ok());
  auto ops = c->All<proto::Ops>();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].first_seq, 1u);
  EXPECT_EQ(ops[0].changes, (std::vector{C(1, 0, "x"), C(2, 0, "y")}));
}

// The log numbers a change past the document's head (another writer, or a
// commit of unknown outcome that landed after a reload): the hub must not
// broadcast over the hole, nor keep a model without what fills it.
TEST_F(DocumentHubTest, AChangeTheLogNumbersPastAHoleReloadsTheDocument) {
  auto a = Join(1);
  auto b = Join(2);
  EXPECT_FALSE(hub_.Submit("doc", a.get(), {C(1, 0, "x")}));  // seq 1
  // Seq 2 is written behind the hub's back.
  log_.Append("doc", {ChangeToLog{C(9, 0, "w"), "u"}},
              [](Result<std::vector<std::uint64_t>> r) {
                ASSERT_TRUE(r.ok());
                EXPECT_EQ(r->at(0), 2u);
              });
  EXPECT_FALSE(hub_.Submit("doc", a.get(), {C(1, 1, "y")}));  // seq 3
  // Acknowledged with its durable seq, but not broadcast past the hole.
  EXPECT_EQ(a->All<proto::Ack>().back().entries.at(0).server_seq, 3u);
  for (auto* r : {a.get(), b.get()}) {
    for (const auto& ops : r->All<proto::Ops>()) {
      EXPECT_EQ(ops.first_seq + ops.changes.size() - 1, 1u)
          << "ops past seq 1 reached a subscriber";
    }
    ASSERT_EQ(r->All<proto::Unsubscribed>().size(), 1u);
    EXPECT_EQ(r->All<proto::Unsubscribed>()[0].code, 503u);
  }
  // Resuming from seq 1 gets the whole log, hole filled.
  auto again = Join(3, /*since=*/1);
  auto ops = again->All<proto::Ops>();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].first_seq, 2u);
  EXPECT_EQ(ops[0].changes, (std::vector{C(9, 0, "w"), C(1, 1, "y")}));
  EXPECT_EQ(*hub_.ContentJson("doc"), "[\"x\",\"w\",\"y\"]");
}

TEST_F(DocumentHubTest, ResumeSendsExactlyWhatIsMissing) {
  auto a = Join(1);
  for (std::uint64_t i = 0; i < 5; ++i)
    hub_.Submit("doc", a.get(), {C(1, i, std::to_string(i))});
  auto late = Join(2, /*since=*/3);
  auto ops = late->All<proto::Ops>();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].first_seq, 4u);
  EXPECT_EQ(ops[0].changes.size(), 2u);
  EXPECT_EQ(late->All<proto::Synced>().at(0).seq, 5u);
  EXPECT_TRUE(late->All<proto::Snapshot>().empty());
}

TEST(DocumentHubPacingTest, ChangesFollowingABroadcastWaitForTheFlush) {
  MemoryDocumentLog log;
  ListModelFactory models;
  HubConfig config;
  // Only flushes send; and longer than any machine is up, so that a
  // document that never broadcast is told apart from one that did at the
  // steady clock's epoch (its boot) on every machine.
  config.broadcast_interval = std::chrono::hours(24 * 365 * 100);
  DocumentHub hub(log, models, config);
  auto a = std::make_shared<Recorder>(1);
  auto b = std::make_shared<Recorder>(2);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, a).ok());
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, b).ok());
  // The first change after a quiet spell goes out at once.
  hub.Submit("doc", a.get(), {C(1, 0, "x")});
  ASSERT_EQ(b->All<proto::Ops>().size(), 1u);
  // What follows within the interval waits, acknowledged all the same.
  hub.Submit("doc", a.get(), {C(1, 1, "y")});
  hub.Submit("doc", a.get(), {C(1, 2, "z")});
  EXPECT_EQ(a->All<proto::Ack>().size(), 3u);
  EXPECT_EQ(b->All<proto::Ops>().size(), 1u);
  // A newcomer: the others get the held changes first, and its catch-up
  // covers them, so nobody sees one twice.
  auto c = std::make_shared<Recorder>(3);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, c).ok());
  auto ops = b->All<proto::Ops>();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[1].first_seq, 2u);
  EXPECT_EQ(ops[1].changes,
            (std::vector<proto::Change>{C(1, 1, "y"), C(1, 2, "z")}));
  // More held changes go to all three, once, at the flush.
  hub.Submit("doc", a.get(), {C(1, 3, "w")});
  EXPECT_EQ(hub.FlushBroadcasts(), 1u);
  EXPECT_EQ(hub.FlushBroadcasts(), 0u);
  for (auto* r : {a.get(), b.get(), c.get()}) {
    std::vector<std::uint64_t> seqs;
    for (const auto& o : r->All<proto::Ops>()) {
      for (std::size_t i = 0; i < o.changes.size(); ++i)
        seqs.push_back(o.first_seq + i);
    }
    EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1, 2, 3, 4}));
  }
}

TEST(DocumentHubSnapshotTest, FarBehindClientGetsSnapshotThenTrailingOps) {
  MemoryDocumentLog log;
  ListModelFactory models;
  HubConfig config;
  config.snapshot_every = 3;
  DocumentHub hub(log, models, config);
  auto a = std::make_shared<Recorder>(1);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, a).ok());
  for (std::uint64_t i = 0; i < 4; ++i)
    hub.Submit("doc", a.get(), {C(1, i, std::to_string(i))});
  // A snapshot at seq 3 compacted the log; one entry follows it.
  EXPECT_EQ(log.EntryCount("doc"), 1u);
  auto b = std::make_shared<Recorder>(2);
  ASSERT_TRUE(hub.Subscribe("doc", 1, proto::Role::kEditor, b).ok());
  auto snaps = b->All<proto::Snapshot>();
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0].last_included_seq, 3u);
  auto ops = b->All<proto::Ops>();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].first_seq, 4u);
}

// Edits that never pause: every append ends with the next one queued, so
// the document is never quiet when an append ends. Its durable part is
// snapshotted all the same once the log is twice the interval long, and
// the snapshot holds only durable changes.
TEST(DocumentHubSnapshotTest, ADocumentEditedWithoutPauseIsSnapshottedAnyway) {
  HeldLog held;
  ListModelFactory models;
  HubConfig config;
  config.snapshot_every = 3;
  DocumentHub hub(held, models, config);
  auto a = std::make_shared<Recorder>(1);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, a).ok());
  hub.Submit("doc", a.get(), {C(1, 0, "c0")});  // the append in flight
  const int loads = models.loads;
  const std::uint64_t busy = 16 * config.snapshot_every;  // kBusySnapshotFactor
  const std::uint64_t n = 2 * busy + 2;
  for (std::uint64_t i = 1; i <= n; ++i) {
    hub.Submit("doc", a.get(), {C(1, i, "c" + std::to_string(i))});
    ASSERT_TRUE(held.Release());  // durable; change i starts the next append
  }
  // n durable, the last in flight: the log was cut at least twice, and
  // the factory (which may ask the store) was not asked: the snapshot runs
  // on the store's completion thread.
  EXPECT_EQ(a->All<proto::Ack>().size(), n);
  EXPECT_EQ(models.loads, loads);
  EXPECT_LT(held.inner.EntryCount("doc"), busy);
  auto b = std::make_shared<Recorder>(2);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, b).ok());
  auto snaps = b->All<proto::Snapshot>();
  ASSERT_EQ(snaps.size(), 1u);
  std::uint64_t upto = snaps[0].last_included_seq;
  EXPECT_GE(upto, busy);
  EXPECT_LE(upto, n);
  // Exactly the durable changes up to it: c0 .. c(upto-1), not the last.
  auto loaded = models.Load("doc", snaps[0].state);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->NextSeq(1), upto);
  // The rest follows the snapshot, and everything is there once the last
  // change is.
  ASSERT_TRUE(held.Release());
  EXPECT_FALSE(held.Release());
  std::string want = "[";
  for (std::uint64_t i = 0; i <= n; ++i)
    want += (i ? ",\"c" : "\"c") + std::to_string(i) + "\"";
  EXPECT_EQ(*hub.ContentJson("doc"), want + "]");
}

TEST(DocumentHubSnapshotTest, SlowlyEditedDocumentIsSnapshottedAfterATime) {
  MemoryDocumentLog log;
  ListModelFactory models;
  HubConfig config;
  config.snapshot_every = 1000;
  config.snapshot_after = std::chrono::minutes(5);
  DocumentHub hub(log, models, config);
  auto a = std::make_shared<Recorder>(1);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, a).ok());
  hub.Submit("doc", a.get(), {C(1, 0, "x")});
  hub.Submit("doc", a.get(), {C(1, 1, "y")});
  auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(hub.SnapshotStale(now), 0u);  // two entries, a moment old
  EXPECT_EQ(log.EntryCount("doc"), 2u);
  EXPECT_EQ(hub.SnapshotStale(now + std::chrono::minutes(6)), 1u);
  EXPECT_EQ(log.EntryCount("doc"), 0u);  // snapshotted, log compacted
  EXPECT_EQ(hub.SnapshotStale(now + std::chrono::minutes(12)), 0u);
  // A late joiner far behind gets the snapshot.
  auto b = std::make_shared<Recorder>(2);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, b).ok());
  ASSERT_EQ(b->All<proto::Snapshot>().size(), 1u);
  EXPECT_EQ(b->All<proto::Snapshot>()[0].last_included_seq, 2u);
}

TEST_F(DocumentHubTest, IdleDocumentsUnloadAndReloadWithTheirContent) {
  auto a = Join(1);
  hub_.Submit("doc", a.get(), {C(1, 0, "x")});
  EXPECT_EQ(hub_.UnloadIdle(), 0u);  // still subscribed
  hub_.Unsubscribe("doc", a.get());
  // A short log is not worth a snapshot: unloaded at once.
  EXPECT_EQ(hub_.UnloadIdle(), 1u);
  EXPECT_EQ(log_.EntryCount("doc"), 1u);
  EXPECT_EQ(hub_.loaded_documents(), 0u);
  EXPECT_EQ(*hub_.ContentJson("doc"), "[\"x\"]");
  // A long one is folded into a snapshot first, then unloaded.
  auto b = Join(2);
  std::vector<proto::Change> many;
  for (std::uint64_t i = 1; i <= config_.unload_snapshot_min; ++i) {
    many.push_back(C(1, i, "y"));
  }
  hub_.Submit("doc", b.get(), many);
  hub_.Unsubscribe("doc", b.get());
  EXPECT_EQ(hub_.UnloadIdle(), 0u);  // folds the log into a snapshot first
  EXPECT_EQ(log_.EntryCount("doc"), 0u);
  EXPECT_EQ(hub_.UnloadIdle(), 1u);
  EXPECT_EQ(hub_.loaded_documents(), 0u);
  int loads = models_.loads;
  auto content = hub_.ContentJson("doc");
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(content->substr(0, 9), "[\"x\",\"y\",");
  EXPECT_EQ(models_.loads, loads + 1);
}

// Reads of document "slow" wait at a gate.
class SlowReadLog : public WrappedLog {
 public:
  void Append(const std::string& doc, std::vector<ChangeToLog> changes,
              AppendDone done) override {
    inner.Append(doc, std::move(changes), std::move(done));
  }
  Result<DocumentHistory> Read(const std::string& doc) override {
    if (doc == "slow") gate.Pass();
    return inner.Read(doc);
  }
  testing::Gate gate;
};

// The sweeps run on the server's control strand, which also broadcasts and
// accepts connections: a document whose load waits on the store must not
// hold them (nor a metrics scrape).
TEST(DocumentHubSweepTest, SweepsDoNotWaitForADocumentBeingLoaded) {
  using namespace std::chrono_literals;
  SlowReadLog log;
  ListModelFactory models;
  DocumentHub hub(log, models);
  auto a = std::make_shared<Recorder>(1);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, a).ok());
  auto b = std::make_shared<Recorder>(2);
  auto loading = std::async(std::launch::async, [&] {
    return hub.Subscribe("slow", 0, proto::Role::kEditor, b);
  });
  log.gate.Entered();
  auto now = std::chrono::steady_clock::now();
  auto sweeps = std::async(std::launch::async, [&] {
    hub.ExpirePresence(now + 1h);
    hub.SnapshotStale(now + 1h);
    hub.UnloadIdle();
    return hub.subscribed_documents();
  });
  bool done = sweeps.wait_for(5s) == std::future_status::ready;
  log.gate.Open();
  EXPECT_TRUE(done) << "a sweep waited for the document being loaded";
  EXPECT_EQ(sweeps.get(), 1u);  // "doc"; "slow" is counted once loaded
  EXPECT_TRUE(loading.get().ok());
  EXPECT_EQ(hub.subscribed_documents(), 2u);
}

TEST(DocumentHubMetricsTest, CountsDurableOpsAndLoadedDocuments) {
  MemoryDocumentLog log;
  ListModelFactory models;
  DocumentHub hub(log, models);
  MetricsRegistry metrics;
  hub.ExportMetrics(metrics);
  auto a = std::make_shared<Recorder>(1);
  ASSERT_TRUE(hub.Subscribe("doc", 0, proto::Role::kEditor, a).ok());
  hub.Submit("doc", a.get(), {C(1, 0, "x"), C(1, 1, "y")});
  hub.Submit("doc", a.get(), {C(1, 0, "x")});  // a retry is not a new op
  std::string text = metrics.Render();
  EXPECT_NE(text.find("weft_sync_ops_total 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("weft_sync_ack_latency_seconds_count 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("weft_sync_documents_loaded 1\n"), std::string::npos);
  EXPECT_NE(text.find("weft_sync_documents_subscribed 1\n"), std::string::npos);
  hub.Unsubscribe("doc", a.get());
  EXPECT_NE(metrics.Render().find("weft_sync_documents_subscribed 0\n"),
            std::string::npos);
}

TEST_F(DocumentHubTest, PresenceIsForwardedAndGoneOnUnsubscribe) {
  auto a = Join(1);
  auto b = Join(2);
  EXPECT_FALSE(hub_.SetPresence("doc", a.get(), "{\"cursor\":3}"));
  EXPECT_TRUE(b->All<proto::PresenceOf>().empty()) << "only at the flush";
  EXPECT_EQ(hub_.FlushPresence(), 1u);
  EXPECT_TRUE(a->All<proto::PresenceOf>().empty());
  ASSERT_EQ(b->All<proto::PresenceOf>().size(), 1u);
  EXPECT_EQ(b->All<proto::PresenceOf>()[0].session_id, 1u);
  auto c = Join(3);  // a late joiner sees current presence
  EXPECT_EQ(c->All<proto::PresenceOf>().size(), 1u);
  hub_.Unsubscribe("doc", a.get());
  EXPECT_EQ(b->All<proto::PresenceGone>().at(0).session_id, 1u);
  auto big = hub_.SetPresence("doc", b.get(), std::string(4096, 'x'));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->code, static_cast<std::uint64_t>(proto::ErrorCode::kTooLarge));
}

// Only a presence the others were shown is taken back: a session that
// subscribes and unsubscribes in a loop without one sends them nothing.
TEST_F(DocumentHubTest, OnlyAPresenceOthersSawIsTakenBack) {
  auto b = Join(2);
  for (int i = 0; i < 3; ++i) {
    auto a = Join(1);
    hub_.Unsubscribe("doc", a.get());
  }
  EXPECT_TRUE(b->All<proto::PresenceGone>().empty());
  auto a = Join(1);
  EXPECT_FALSE(hub_.SetPresence("doc", a.get(), "{}"));
  hub_.Unsubscribe("doc", a.get());  // before the flush: nobody saw it
  EXPECT_TRUE(b->All<proto::PresenceGone>().empty());
  a = Join(1);
  EXPECT_FALSE(hub_.SetPresence("doc", a.get(), "{}"));
  hub_.FlushPresence();
  EXPECT_FALSE(hub_.SetPresence("doc", a.get(), "{\"cursor\":1}"));
  hub_.Unsubscribe("doc", a.get());  // shown, then changed: taken back
  EXPECT_EQ(b->All<proto::PresenceGone>().size(), 1u);
}

// An empty state takes a presence back while staying subscribed (a
// closed editor whose unsent edits keep its subscription): the others get
// presence_gone at the flush, newcomers get nothing, and a presence set
// and taken back between two flushes sends nothing at all.
TEST_F(DocumentHubTest, AnEmptyStateTakesThePresenceBack) {
  auto a = Join(1);
  auto b = Join(2);
  EXPECT_FALSE(hub_.SetPresence("doc", a.get(), "{\"cursor\":3}"));
  EXPECT_EQ(hub_.FlushPresence(), 1u);
  EXPECT_FALSE(hub_.SetPresence("doc", a.get(), ""));
  EXPECT_TRUE(b->All<proto::PresenceGone>().empty()) << "only at the flush";
  EXPECT_EQ(hub_.FlushPresence(), 1u);
  auto gone = b->All<proto::PresenceGone>();
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].session_id, 1u);
  auto c = Join(3);
  EXPECT_TRUE(c->All<proto::PresenceOf>().empty());
  // Set and taken back before anyone saw it: nothing goes out.
  EXPECT_FALSE(hub_.SetPresence("doc", a.get(), "{\"cursor\":4}"));
  EXPECT_FALSE(hub_.SetPresence("doc", a.get(), ""));
  EXPECT_EQ(hub_.FlushPresence(), 0u);
  // Unsubscribing after a take-back tells nobody again.
  hub_.Unsubscribe("doc", a.get());
  EXPECT_EQ(b->All<proto::PresenceGone>().size(), 1u);
  EXPECT_EQ(b->All<proto::PresenceOf>().size(), 1u);
}

TEST_F(DocumentHubTest, ANewcomerGetsAPresenceWaitingForTheFlushOnce) {
  auto a = Join(1);
  EXPECT_FALSE(hub_.SetPresence("doc", a.get(), "{\"cursor\":1}"));
  EXPECT_EQ(hub_.FlushPresence(), 1u);
  EXPECT_FALSE(hub_.SetPresence("doc", a.get(), "{\"cursor\":2}"));
  // b joins between an update and its flush: the flush brings it, so the
  // join does not send it too.
  auto b = Join(2);
  EXPECT_TRUE(b->All<proto::PresenceOf>().empty());
  EXPECT_EQ(hub_.FlushPresence(), 1u);
  auto seen = b->All<proto::PresenceOf>();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].state, "{\"cursor\":2}");
}

TEST_F(DocumentHubTest, PresenceCoalescesToTheLatestStatePerFlush) {
  auto a = Join(1);
  auto b = Join(2);
  auto c = Join(3);
  for (int i = 0; i < 10; ++i) {
    std::string state = "{\"cursor\":" + std::to_string(i) + "}";
    EXPECT_FALSE(hub_.SetPresence("doc", a.get(), state));
  }
  EXPECT_FALSE(hub_.SetPresence("doc", b.get(), "{\"cursor\":42}"));
  EXPECT_EQ(hub_.FlushPresence(), 2u);
  // c got one presence_of per session, with the latest state.
  auto seen = c->All<proto::PresenceOf>();
  ASSERT_EQ(seen.size(), 2u);
  std::map<std::uint64_t, std::string> by_session;
  for (const auto& p : seen) by_session[p.session_id] = p.state;
  EXPECT_EQ(by_session[1], "{\"cursor\":9}");
  EXPECT_EQ(by_session[2], "{\"cursor\":42}");
  // a sees b's, not its own; nothing new means nothing sent.
  ASSERT_EQ(a->All<proto::PresenceOf>().size(), 1u);
  EXPECT_EQ(a->All<proto::PresenceOf>()[0].session_id, 2u);
  EXPECT_EQ(hub_.FlushPresence(), 0u);
  EXPECT_EQ(c->All<proto::PresenceOf>().size(), 2u);
}

TEST_F(DocumentHubTest, SilentSessionsLosePresenceAfterTheTimeout) {
  auto a = Join(1);
  auto b = Join(2);
  auto now = std::chrono::steady_clock::now();
  a->heard = now;
  b->heard = now;
  EXPECT_FALSE(hub_.SetPresence("doc", a.get(), "{\"cursor\":1}"));
  EXPECT_FALSE(hub_.SetPresence("doc", b.get(), "{\"cursor\":2}"));
  hub_.FlushPresence();
  // b keeps talking; a goes silent.
  EXPECT_EQ(hub_.ExpirePresence(now + std::chrono::seconds(29)), 0u);
  b->heard = now + std::chrono::seconds(29);
  EXPECT_EQ(hub_.ExpirePresence(now + std::chrono::seconds(31)), 1u);
  ASSERT_EQ(b->All<proto::PresenceGone>().size(), 1u);
  EXPECT_EQ(b->All<proto::PresenceGone>()[0].session_id, 1u);
  EXPECT_TRUE(a->All<proto::PresenceGone>().empty());
  // Once gone, it is not sent again, and a late joiner does not see it.
  EXPECT_EQ(hub_.ExpirePresence(now + std::chrono::seconds(40)), 0u);
  auto c = Join(3);
  auto late = c->All<proto::PresenceOf>();
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].session_id, 2u);
}

TEST_F(DocumentHubTest, PresenceNeverShownGoesWithoutAPresenceGone) {
  auto a = Join(1);
  auto b = Join(2);
  auto now = std::chrono::steady_clock::now();
  a->heard = now;
  b->heard = now + std::chrono::seconds(31);
  // a's state is set but not flushed yet when a goes silent: b never saw
  // it, so b is not told it went.
  EXPECT_FALSE(hub_.SetPresence("doc", a.get(), "{\"cursor\":1}"));
  EXPECT_EQ(hub_.ExpirePresence(now + std::chrono::seconds(31)), 1u);
  EXPECT_TRUE(b->All<proto::PresenceGone>().empty());
  hub_.FlushPresence();
  EXPECT_TRUE(b->All<proto::PresenceOf>().empty()) << "cleared, not sent";
}

TEST_F(DocumentHubTest, LivePermissionChanges) {
  auto a = Join(1);
  hub_.SetRole("doc", a.get(), proto::Role::kViewer);
  auto err = hub_.Submit("doc", a.get(), {C(1, 0, "x")});
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code,
            static_cast<std::uint64_t>(proto::ErrorCode::kForbidden));
  hub_.SetRole("doc", a.get(), std::nullopt, 410, "access removed");
  auto unsub = a->All<proto::Unsubscribed>();
  ASSERT_EQ(unsub.size(), 1u);
  EXPECT_EQ(unsub[0].code, 410u);
  // The hub no longer has the subscription; its connection, which ended
  // the subscription too (SyncConnection::RecheckAccess), answers 404 for
  // the document before asking the hub. The hub itself cannot tell this
  // from a subscription that a Drop ended, which must stay retryable.
  err = hub_.Submit("doc", a.get(), {C(1, 0, "x")});
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code,
            static_cast<std::uint64_t>(proto::ErrorCode::kUnavailable));
  EXPECT_EQ(*hub_.ContentJson("doc"), "[]");
}

}  // namespace
}  // namespace weft::server
