#include "store/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

namespace weft::store {
namespace {

std::vector<NewOp> OneOp(std::uint64_t n) {
  NewOp op;
  op.id = {1, n};
  return {op};
}

// A writer that records which requests it has durably "committed".
struct RecordingWriter {
  std::mutex mu;
  std::set<std::uint64_t> committed;  // local_seq of the first op
  std::vector<std::size_t> group_sizes;

  Result<std::vector<Result<AppendResult>>> Write(
      std::span<AppendRequest> group) {
    std::vector<Result<AppendResult>> out;
    std::lock_guard<std::mutex> lock(mu);
    for (const AppendRequest& r : group) {
      committed.insert(r.ops[0].id.local_seq);
      AppendResult a;
      a.seqs = {static_cast<std::int64_t>(r.ops[0].id.local_seq)};
      a.duplicate = {false};
      out.emplace_back(std::move(a));
    }
    group_sizes.push_back(group.size());
    return out;
  }
};

// A RecordingWriter whose first group waits until release() (entered()
// says it has begun): what is submitted meanwhile queues.
struct HeldFirstWriter {
  RecordingWriter w;
  std::promise<void> first_entered, release_first;
  std::shared_future<void> released = release_first.get_future().share();
  std::atomic<int> calls{0};

  GroupWriter writer() {
    return [this](std::span<AppendRequest> g) {
      if (calls++ == 0) {
        first_entered.set_value();
        released.wait();
      }
      return w.Write(g);
    };
  }
  void entered() { first_entered.get_future().wait(); }
  void release() { release_first.set_value(); }
};

TEST(GroupCommitTest, CallbacksRunOnlyAfterTheirGroupIsCommitted) {
  RecordingWriter w;
  std::atomic<int> early{0};
  std::vector<std::promise<void>> done(200);
  {
    GroupCommitter gc([&](std::span<AppendRequest> g) { return w.Write(g); },
                      {});
    for (std::uint64_t i = 0; i < done.size(); ++i) {
      gc.Submit({"d", OneOp(i), [&, i](Result<AppendResult> r) {
                   std::lock_guard<std::mutex> lock(w.mu);
                   if (!r.ok() || !w.committed.contains(i)) ++early;
                   done[i].set_value();
                 }});
    }
    for (auto& d : done) d.get_future().wait();
  }
  EXPECT_EQ(early.load(), 0);
  EXPECT_EQ(w.committed.size(), done.size());
}

TEST(GroupCommitTest, RequestsQueuedDuringACommitShareTheNextOne) {
  std::promise<void> first_entered, release_first;
  std::shared_future<void> release = release_first.get_future().share();
  RecordingWriter w;
  std::atomic<int> calls{0};
  GroupCommitter gc(
      [&](std::span<AppendRequest> g) {
        if (calls++ == 0) {
          first_entered.set_value();
          release.wait();  // a slow fsync
        }
        return w.Write(g);
      },
      {});
  std::vector<std::future<Result<AppendResult>>> results;
  auto submit = [&](std::uint64_t i) {
    auto p = std::make_shared<std::promise<Result<AppendResult>>>();
    results.push_back(p->get_future());
    gc.Submit({"d", OneOp(i),
               [p](Result<AppendResult> r) { p->set_value(std::move(r)); }});
  };
  submit(0);
  first_entered.get_future().wait();
  for (std::uint64_t i = 1; i <= 50; ++i) submit(i);
  release_first.set_value();
  for (auto& f : results) ASSERT_TRUE(f.get().ok());
  EXPECT_EQ(w.group_sizes, (std::vector<std::size_t>{1, 50}));
  EXPECT_EQ(gc.groups_committed(), 2u);
  EXPECT_EQ(gc.requests_committed(), 51u);
}

TEST(GroupCommitTest, AFailedCommitFailsEveryRequestOfTheGroup) {
  std::promise<void> first_entered, release_first;
  std::shared_future<void> release = release_first.get_future().share();
  std::atomic<int> calls{0};
  GroupCommitter gc(
      [&](std::span<AppendRequest> g)
          -> Result<std::vector<Result<AppendResult>>> {
        if (calls++ == 0) {
          first_entered.set_value();
          release.wait();
          return std::vector<Result<AppendResult>>(g.size(), AppendResult{});
        }
        return Status::Unavailable("disk full");
      },
      {});
  std::vector<std::future<Result<AppendResult>>> results;
  auto submit = [&](std::uint64_t i) {
    auto p = std::make_shared<std::promise<Result<AppendResult>>>();
    results.push_back(p->get_future());
    gc.Submit({"d", OneOp(i),
               [p](Result<AppendResult> r) { p->set_value(std::move(r)); }});
  };
  submit(0);
  first_entered.get_future().wait();
  for (std::uint64_t i = 1; i <= 5; ++i) submit(i);
  release_first.set_value();
  EXPECT_TRUE(results[0].get().ok());
  for (std::size_t i = 1; i < results.size(); ++i) {
    auto r = results[i].get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  }
}

TEST(GroupCommitTest, GroupsRespectTheOperationBound) {
  std::vector<std::size_t> observed_ops;  // committer thread only
  HeldFirstWriter held;
  RecordingWriter& w = held.w;
  GroupCommitter gc(
      held.writer(),
      GroupCommitter::Options{
          4,
          [&](std::size_t ops, std::chrono::steady_clock::duration) {
            observed_ops.push_back(ops);
          },
          {}});
  std::atomic<int> ok{0};
  std::promise<void> all;
  constexpr int kN = 11;
  for (std::uint64_t i = 0; i < kN; ++i) {
    if (i == 1) held.entered();
    gc.Submit({"d", OneOp(i), [&](Result<AppendResult> r) {
                 if (r.ok() && ++ok == kN) all.set_value();
               }});
  }
  held.release();
  all.get_future().wait();
  EXPECT_EQ(w.group_sizes, (std::vector<std::size_t>{1, 4, 4, 2}));
  gc.Stop();  // joins the completer: observed_ops is complete
  // The commit observer saw every group, with its operation count.
  EXPECT_EQ(observed_ops, (std::vector<std::size_t>{1, 4, 4, 2}));
}

TEST(GroupCommitTest, GroupsRespectTheByteBound) {
  HeldFirstWriter held;
  RecordingWriter& w = held.w;
  GroupCommitter::Options options;
  options.max_group_bytes = 3000;  // three 1,000-byte ops
  GroupCommitter gc(held.writer(), options);
  std::atomic<int> ok{0}, done{0};
  std::promise<void> all;
  constexpr int kN = 8;
  for (std::uint64_t i = 0; i < kN; ++i) {
    if (i == 1) held.entered();
    auto ops = OneOp(i);
    // The fourth queued request alone is over the bound: a group of its
    // own.
    ops[0].payload.assign(i == 4 ? 5000 : 1000, 'x');
    gc.Submit({"d", std::move(ops), [&](Result<AppendResult> r) {
                 if (r.ok()) ++ok;
                 if (++done == kN) all.set_value();
               }});
  }
  held.release();
  all.get_future().wait();
  EXPECT_EQ(ok.load(), kN);
  EXPECT_EQ(w.group_sizes, (std::vector<std::size_t>{1, 3, 1, 3}));
}

TEST(GroupCommitTest, TheNextGroupCommitsWhileCallbacksRun) {
  // The first request's callback waits for the second request's commit: it
  // comes only if callbacks do not hold up the committer.
  std::promise<void> first_called, second_written;
  std::future<void> written = second_written.get_future();
  std::atomic<int> calls{0};
  RecordingWriter w;
  GroupCommitter gc(
      [&](std::span<AppendRequest> g) {
        if (calls++ == 1) second_written.set_value();
        return w.Write(g);
      },
      {});
  std::promise<bool> overlapped;
  gc.Submit({"d", OneOp(0), [&](Result<AppendResult>) {
               first_called.set_value();
               overlapped.set_value(written.wait_for(std::chrono::seconds(
                                        10)) == std::future_status::ready);
             }});
  first_called.get_future().wait();
  auto second = std::make_shared<std::promise<bool>>();
  gc.Submit({"d", OneOp(1),
             [second](Result<AppendResult> r) { second->set_value(r.ok()); }});
  EXPECT_TRUE(overlapped.get_future().get());
  EXPECT_TRUE(second->get_future().get());
}

// A writer that returns before its group is durable (SqliteStore defers the
// fsync) relies on before_callbacks: it runs before each group's callbacks,
// and its error fails the group's requests.
TEST(GroupCommitTest, BeforeCallbacksRunsFirstAndItsErrorFailsTheGroup) {
  RecordingWriter w;
  std::mutex mu;
  std::size_t made_durable = 0;  // committed groups covered by a "sync"
  std::atomic<bool> fail{false};
  std::atomic<int> early{0};
  GroupCommitter::Options o;
  o.before_callbacks = [&]() -> Status {
    if (fail) return Status::Unavailable("sync failed");
    std::lock_guard<std::mutex> l1(mu);
    std::lock_guard<std::mutex> l2(w.mu);
    made_durable = w.committed.size();
    return Status::Ok();
  };
  GroupCommitter gc([&](std::span<AppendRequest> g) { return w.Write(g); }, o);
  std::vector<std::promise<void>> done(100);
  for (std::uint64_t i = 0; i < done.size(); ++i) {
    gc.Submit({"d", OneOp(i), [&, i](Result<AppendResult> r) {
                 std::lock_guard<std::mutex> lock(mu);
                 // Requests are committed in order: request i is covered
                 // once more than i requests were.
                 if (!r.ok() || made_durable <= i) ++early;
                 done[i].set_value();
               }});
  }
  for (auto& d : done) d.get_future().wait();
  EXPECT_EQ(early.load(), 0);
  fail = true;
  auto r = gc.SubmitAndWait("d", OneOp(1000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "sync failed");
}

// While a group waits for before_callbacks (its fsync), the committer
// commits at most one more group, and only one at least as large. (The
// waits that show a group was not started cannot fail falsely; a broken
// rule that started it later than 100 ms would go unseen.)
TEST(GroupCommitTest, AtMostTwoGroupsWaitForTheirSync) {
  RecordingWriter w;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  GroupCommitter::Options o;
  o.before_callbacks = [released]() -> Status {
    released.wait();
    return Status::Ok();
  };
  std::atomic<int> writes{0};
  std::atomic<int> ok{0};
  GroupCommitter gc(
      [&](std::span<AppendRequest> g) {
        ++writes;
        return w.Write(g);
      },
      o);
  // Released on every way out, so that a failed assertion does not leave
  // the completer waiting while gc's destructor joins it
  // (declared after gc, so destroyed before it).
  struct Releaser {
    std::promise<void>& p;
    bool done = false;
    void Now() {
      if (!done) p.set_value();
      done = true;
    }
    ~Releaser() { Now(); }
  } releaser{release};
  auto submit = [&](std::uint64_t i) {
    gc.Submit({"d", OneOp(i), [&](Result<AppendResult> r) {
                 if (r.ok()) ++ok;
               }});
  };
  auto wait_writes = [&](int n) {
    for (int i = 0; i < 2000 && writes.load() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return writes.load();
  };
  auto submit_ops = [&](std::uint64_t first, std::uint64_t n) {
    std::vector<NewOp> ops;
    for (std::uint64_t i = 0; i < n; ++i) ops.push_back(OneOp(first + i)[0]);
    gc.Submit({"d", std::move(ops), [&](Result<AppendResult> r) {
                 if (r.ok()) ++ok;
               }});
  };
  submit_ops(0, 3);
  ASSERT_EQ(wait_writes(1), 1);  // group 1 (3 ops) waits for its sync
  submit(3);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(writes.load(), 1);  // 1 op queued: smaller, it waits
  submit(4);
  submit(5);
  ASSERT_GE(wait_writes(2), 2);  // 3 ops queued: as large, it goes
  for (std::uint64_t i = 6; i < 12; ++i) submit(i);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(writes.load(), 2);  // a third group would wait for a sync too
  releaser.Now();
  gc.Stop();
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(writes.load(), 3);  // everything queued went as one group
}

TEST(GroupCommitTest, StopFinishesQueuedRequestsAndRefusesNewOnes) {
  RecordingWriter w;
  GroupCommitter gc([&](std::span<AppendRequest> g) { return w.Write(g); }, {});
  std::atomic<int> ok{0};
  for (std::uint64_t i = 0; i < 20; ++i) {
    gc.Submit({"d", OneOp(i), [&](Result<AppendResult> r) {
                 if (r.ok()) ++ok;
               }});
  }
  gc.Stop();
  EXPECT_EQ(ok.load(), 20);
  auto r = gc.SubmitAndWait("d", OneOp(99));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace weft::store
