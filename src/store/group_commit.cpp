#include "store/group_commit.h"

#include <optional>
#include <utility>

namespace weft::store {

GroupCommitter::GroupCommitter(GroupWriter writer, Options options)
    : writer_(std::move(writer)), options_(options) {
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
  // A mutex and condition variable rather than std::promise (cheaper per
  // append). The callback notifies while holding the mutex, so this frame
  // cannot return (and destroy them) before the callback is done with them.
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<AppendResult>> out;
  Submit({std::move(doc_id), std::move(ops), [&](Result<AppendResult> r) {
            std::lock_guard<std::mutex> lock(mu);
            out.emplace(std::move(r));
            cv.notify_one();
          }});
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return out.has_value(); });
  return std::move(*out);
}

void GroupCommitter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
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
  std::vector<AppendRequest> group;
  for (;;) {
    group.clear();
    std::size_t ops = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      idle_ = true;
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      idle_ = false;
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty()) {
        std::size_t next = queue_.front().ops.size();
        if (!group.empty() && ops + next > options_.max_group_ops) break;
        ops += next;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    auto started = std::chrono::steady_clock::now();
    auto results = writer_(std::span<AppendRequest>(group));
    if (results.ok() && options_.on_commit) {
      options_.on_commit(ops, std::chrono::steady_clock::now() - started);
    }
    if (results.ok()) {
      WEFT_CHECK_MSG(results->size() == group.size(),
                     "GroupWriter returned the wrong number of results");
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (results.ok()) {
        ++groups_;
        requests_ += group.size();
      }
    }
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (results.ok()) {
        group[i].done(std::move((*results)[i]));
      } else {
        group[i].done(results.status());
      }
    }
  }
}

}  // namespace weft::store
