#include "store/group_commit.h"

#include <atomic>
#include <memory>
#include <optional>
#include <utility>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace weft::store {

GroupCommitter::GroupCommitter(GroupWriter writer, Options options)
    : writer_(std::move(writer)), options_(options) {
  completer_ = std::thread([this] { Complete(); });
  thread_ = std::thread([this] { Run(); });
}

GroupCommitter::~GroupCommitter() { Stop(); }

void GroupCommitter::Submit(AppendRequest request) {
  // Summed here, outside the lock the committer takes groups under.
  request.bytes = 0;
  for (const NewOp& op : request.ops) {
    request.bytes += op.payload.size() + op.parents.size();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queued_ops_ += request.ops.size();
      queue_.push_back(std::move(request));
      // While the committer works it re-checks the queue before sleeping;
      // waking it costs a syscall per append, so only when it sleeps and
      // may start.
      if (idle_ && CanStartLocked()) cv_.notify_one();
      return;
    }
  }
  request.done(Status::Unavailable("store is closed"));
}

namespace {

// A futex wait and wake on Linux: std::atomic::wait first spins and calls
// sched_yield a dozen times (libstdc++ 12), which with dozens of blocked
// writers on two cores cost a fifth of the CPU of store_bench's
// threads.
void Sleep(std::atomic<int>& a) {
#ifdef __linux__
  static_assert(sizeof(std::atomic<int>) == sizeof(int));
  syscall(SYS_futex, reinterpret_cast<int*>(&a), FUTEX_WAIT_PRIVATE, 0, nullptr,
          nullptr, 0);
#else
  a.wait(0, std::memory_order_acquire);
#endif
}

void Wake(std::atomic<int>& a) {
#ifdef __linux__
  syscall(SYS_futex, reinterpret_cast<int*>(&a), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
#else
  a.notify_one();
#endif
}

}  // namespace

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
            Wake(w->ready);
          }});
  while (w->ready.load(std::memory_order_acquire) == 0) Sleep(w->ready);
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

bool GroupCommitter::CanStartLocked() const {
  if (queue_.empty()) return false;
  // With a deferred fsync (before_callbacks), the next group is committed
  // while the previous one's fsync runs only if it is at least as large:
  // groups started behind every sync would be small, each costing a commit
  // (when writers come back slowly, as threads woken one by one do).
  // Otherwise the committer waits for the fsync and takes everything
  // queued by then. Never more than two groups wait for an fsync.
  if (unsynced_.empty()) return true;
  return unsynced_.size() == 1 && queued_ops_ >= unsynced_.front();
}

void GroupCommitter::Run() {
  for (;;) {
    Committed c;
    std::size_t ops = 0;
    std::size_t bytes = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      idle_ = true;
      cv_.wait(lock, [this] { return stopping_ || CanStartLocked(); });
      idle_ = false;
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty()) {
        std::size_t next = queue_.front().ops.size();
        const std::size_t next_bytes = queue_.front().bytes;
        if (!c.group.empty() &&
            (ops + next > options_.max_group_ops ||
             bytes + next_bytes > options_.max_group_bytes)) {
          break;
        }
        ops += next;
        bytes += next_bytes;
        queued_ops_ -= next;
        c.group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    c.ops = ops;
    c.started = std::chrono::steady_clock::now();
    c.results = writer_(std::span<AppendRequest>(c.group));
    c.written = std::chrono::steady_clock::now();
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
      if (options_.before_callbacks) unsynced_.push_back(ops);
    }
    // The callbacks (waking the writers) run on the completer thread, so
    // that this one starts the next group at once: its commit overlaps with
    // the wake-ups of the previous group's writers (and with its fsync when
    // the writer defers it to before_callbacks).
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
    if (options_.before_callbacks) {
      if (c.results.ok()) {
        Status s = options_.before_callbacks();
        if (!s.ok()) c.results = s;
      }
      std::lock_guard<std::mutex> lock(mu_);
      unsynced_.pop_front();
      if (idle_ && CanStartLocked()) cv_.notify_one();
    }
    if (c.results.ok() && options_.on_commit) {
      // Until durable: the writer's return, or the deferred sync's.
      auto durable = options_.before_callbacks
                         ? std::chrono::steady_clock::now()
                         : c.written;
      options_.on_commit(c.ops, durable - c.started);
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
