#include "auth/queued_mailer.h"

#include "common/check.h"

namespace weft::auth {

QueuedMailer::QueuedMailer(std::unique_ptr<Mailer> inner,
                           QueuedMailerOptions options,
                           FailureCallback on_failure)
    : inner_(std::move(inner)),
      options_(options),
      on_failure_(std::move(on_failure)) {
  WEFT_CHECK_MSG(inner_ != nullptr, "QueuedMailer needs an inner mailer");
  WEFT_CHECK_MSG(options_.max_queue >= 1 && options_.max_attempts >= 1,
                 "QueuedMailer options out of range");
  worker_ = std::thread([this] { Run(); });
}

QueuedMailer::~QueuedMailer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  worker_.join();
}

Status QueuedMailer::Send(const MailMessage& message) {
  WEFT_RETURN_IF_ERROR(ValidateMailMessage(message));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= options_.max_queue) {
      return Status::ResourceExhausted("mail queue is full");
    }
    queue_.push_back(message);
  }
  work_cv_.notify_one();
  return Status::Ok();
}

void QueuedMailer::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void QueuedMailer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything delivered
    MailMessage message = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();

    Status status;
    for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
      status = inner_->Send(message);
      if (status.code() != StatusCode::kUnavailable) break;
      if (attempt < options_.max_attempts) {
        std::this_thread::sleep_for(options_.retry_delay);
      }
    }
    if (!status.ok() && on_failure_) on_failure_(message, status);

    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
}

}  // namespace weft::auth
