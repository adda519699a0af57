#include "store/group_commit.h"

#include <atomic>
#include <memory>
#include <optional>
#include <utility>

namespace weft::store {

GroupCommitter::GroupCommitter(GroupWriter writer, Options options)
    : writer_(std::move(writer)), options_(options) {
  completer_ = std::thread([this] { Complete(); });
  thread_ = std::thread([this] { Run(); });
}

GroupCommitter::~GroupCommitter() { Stop(); }

void GroupCommitter::Submit(AppendRequest request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(request));
      // While the committer works it re-checks the queue before sleeping;
      // waking it costs a syscall per append, so only when it sleeps.
      if (idle_) cv_.notify_one();
      return;
    }
  }
  request.done(Status::Unavailable("store is closed"));
}

Result<AppendResult> GroupCommitter::SubmitAndWait(std::string doc_id,
                                                   std::vector<NewOp> ops) {
  // The callback publishes the result with one atomic store and wakes this
  // thread with one futex call. A mutex and condition variable cost two
  // wake-ups per append: notified while the callback held the mutex, the
  // woken writer blocked on it again. The state is shared with the
  // callback, so the notify after the store never touches a dead frame.
  struct Waiter {
    std::atomic<int> ready{0};
    std::optional<Result<AppendResult>> out;
  };
  auto w = std::make_shared<Waiter>();
  Submit({std::move(doc_id), std::move(ops), [w](Result<AppendResult> r) {
            w->out.emplace(std::move(r));
            w->ready.store(1, std::memory_order_release);
            w->ready.notify_one();
          }});
  w->ready.wait(0, std::memory_order_acquire);
  return std::move(*w->out);
}

void GroupCommitter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    done_stopping_ = true;
    done_cv_.notify_one();
  }
  if (completer_.joinable()) completer_.join();
}

std::uint64_t GroupCommitter::groups_committed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return groups_;
}

std::uint64_t GroupCommitter::requests_committed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void GroupCommitter::Run() {
  for (;;) {
    Committed c;
    std::size_t ops = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      idle_ = true;
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      idle_ = false;
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty()) {
        std::size_t next = queue_.front().ops.size();
        if (!c.group.empty() && ops + next > options_.max_group_ops) break;
        ops += next;
        c.group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    auto started = std::chrono::steady_clock::now();
    c.results = writer_(std::span<AppendRequest>(c.group));
    if (c.results.ok() && options_.on_commit) {
      options_.on_commit(ops, std::chrono::steady_clock::now() - started);
    }
    if (c.results.ok()) {
      WEFT_CHECK_MSG(c.results->size() == c.group.size(),
                     "GroupWriter returned the wrong number of results");
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (c.results.ok()) {
        ++groups_;
        requests_ += c.group.size();
      }
    }
    // The callbacks (waking the writers) run on the completer thread, so
    // that this one starts the next group at once: its commit (an fsync,
    // no CPU) overlaps with the wake-ups of the previous group's writers.
    std::lock_guard<std::mutex> lock(done_mu_);
    done_.push_back(std::move(c));
    if (completer_idle_) done_cv_.notify_one();
  }
}

void GroupCommitter::Complete() {
  for (;;) {
    Committed c;
    {
      std::unique_lock<std::mutex> lock(done_mu_);
      completer_idle_ = true;
      done_cv_.wait(lock, [this] { return done_stopping_ || !done_.empty(); });
      completer_idle_ = false;
      if (done_.empty()) return;  // stopping (the committer joined), drained
      c = std::move(done_.front());
      done_.pop_front();
    }
    for (std::size_t i = 0; i < c.group.size(); ++i) {
      if (c.results.ok()) {
        c.group[i].done(std::move((*c.results)[i]));
      } else {
        c.group[i].done(c.results.status());
      }
    }
  }
}

}  // namespace weft::store
