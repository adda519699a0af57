#pragma once

// GroupCommitter: many concurrent appends share one durable commit.
//
// Callers Submit() requests from any thread. One committer thread takes
// everything queued (up to Options::max_group_ops operations), hands the
// group to the backend's GroupWriter, which runs it as one transaction and
// commits once, and only after the writer returns are the group's callbacks
// run, in submission order, on a completer thread: the committer takes the
// next group at once, so its commit overlaps with waking the writers of the
// previous one. While a commit is in flight new requests queue, so groups
// grow with load with no timer and no idle latency.
//
// Thread safety: Submit/SubmitAndWait/Stop are thread-safe. Callbacks run on
// the completer thread; they must be short and must not wait for another
// append (that would deadlock the completer).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace weft::store {

struct AppendRequest {
  std::string doc_id;
  std::vector<NewOp> ops;
  AppendCallback done;
  std::size_t bytes = 0;  // of the ops' payloads; set by Submit
};

// Runs `group` in one transaction and returns after it is durably committed
// (or, with Options::before_callbacks, after it is committed).
// The outer Result is the commit: an error means nothing of the group is
// stored and every request fails with it. Otherwise one Result per request,
// in order; a failed request must have left nothing stored (e.g. rolled back
// to a savepoint) while the others commit.
using GroupWriter = std::function<Result<std::vector<Result<AppendResult>>>(
    std::span<AppendRequest> group)>;

class GroupCommitter {
 public:
  struct Options {
    // Upper bound on the operations of one group (a single larger request
    // still forms a group of its own). Default 8192.
    std::size_t max_group_ops = 8192;
    // Called on the completer thread once a group is durable, with the time
    // from the committer taking it until it was durable (the writer's
    // return, or before_callbacks' when set) (e.g. weftd's
    // weft_store_commit_seconds); must be short.
    CommitObserver on_commit;
    // Called on the completer thread before a group's callbacks, after its
    // writer returned; may be empty. A writer that returns before its
    // commit is durable (SqliteStore puts the fsync off, so that the next
    // group is built meanwhile) makes it durable here. An error fails every
    // request of the group with it.
    std::function<Status()> before_callbacks;
    // Upper bound on the payload bytes of one group's operations (a single
    // larger request still forms a group of its own). Default 64 MiB: a
    // PostgreSQL message (the batch INSERT's) must stay under 1 GiB, and a
    // group's memory bounded while many large changes queue at once.
    std::size_t max_group_bytes = std::size_t{64} << 20;
  };

  // Starts the committer and completer threads.
  GroupCommitter(GroupWriter writer, Options options);
  // Stop()s, which finishes every queued request.
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues a request; request.done is called exactly once. After Stop() it
  // is called at once (on the caller's thread) with kUnavailable.
  void Submit(AppendRequest request);

  // Submits and blocks until the request is durable or failed.
  Result<AppendResult> SubmitAndWait(std::string doc_id,
                                     std::vector<NewOp> ops);

  // Refuses new requests, commits those already queued, runs every
  // callback, joins the threads.
  // Idempotent.
  void Stop();

  // Counters for tests and benchmarks.
  std::uint64_t groups_committed() const;
  std::uint64_t requests_committed() const;

 private:
  // A committed group on its way to its callbacks.
  struct Committed {
    std::vector<AppendRequest> group;
    std::size_t ops = 0;
    std::chrono::steady_clock::time_point started;  // taken by the committer
    std::chrono::steady_clock::time_point written;  // the writer returned
    Result<std::vector<Result<AppendResult>>> results{
        std::vector<Result<AppendResult>>{}};
  };

  // Whether the committer may take the next group now; mu_ held.
  bool CanStartLocked() const;
  void Run();       // the committer thread
  void Complete();  // the completer thread: runs the callbacks

  GroupWriter writer_;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<AppendRequest> queue_;  // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  bool idle_ = false;                // guarded by mu_: committer is waiting
  std::uint64_t groups_ = 0;         // guarded by mu_
  std::uint64_t requests_ = 0;       // guarded by mu_
  std::size_t queued_ops_ = 0;       // guarded by mu_: ops in queue_
  // The ops of each group committed whose before_callbacks has not
  // returned, oldest first; guarded by mu_.
  std::deque<std::size_t> unsynced_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::deque<Committed> done_;   // guarded by done_mu_, in commit order
  bool done_stopping_ = false;   // guarded by done_mu_
  bool completer_idle_ = false;  // guarded by done_mu_
  std::thread completer_;
  std::thread thread_;  // the committer
};

}  // namespace weft::store
