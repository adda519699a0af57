#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "auth/mailer.h"

namespace weft::auth {

struct QueuedMailerOptions {
  // Most messages waiting; Send() refuses beyond. Default 1000.
  std::size_t max_queue = 1000;
  // Tries per message when the inner mailer answers Unavailable. Other
  // errors are not retried. Default 3.
  int max_attempts = 3;
  // Pause before each retry. Default 5 seconds.
  std::chrono::milliseconds retry_delay = std::chrono::seconds(5);
};

// Delivers through another Mailer on a background thread, so a request
// handler never waits for SMTP. This also keeps "password reset requested"
// answering in the same time whether or not the email has an account: the
// handler only enqueues.
//
// Send() validates and enqueues; Ok means "queued", not "delivered".
// Messages that finally fail go to `on_failure` (called on the worker
// thread; e.g. to log them without their body). Thread-safe. The
// destructor stops taking messages, delivers what is queued (each with its
// retries) and joins the worker.
class QueuedMailer final : public Mailer {
 public:
  using FailureCallback =
      std::function<void(const MailMessage& message, const Status& status)>;

  QueuedMailer(std::unique_ptr<Mailer> inner, QueuedMailerOptions options = {},
               FailureCallback on_failure = {});
  ~QueuedMailer() override;

  QueuedMailer(const QueuedMailer&) = delete;
  QueuedMailer& operator=(const QueuedMailer&) = delete;

  // InvalidArgument for a message failing ValidateMailMessage;
  // ResourceExhausted when max_queue messages are waiting.
  Status Send(const MailMessage& message) override;

  // Blocks until every message queued so far has been delivered or given
  // up on. For tests and orderly shutdown.
  void Flush();

 private:
  void Run();

  const std::unique_ptr<Mailer> inner_;
  const QueuedMailerOptions options_;
  const FailureCallback on_failure_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // queue non-empty or stopping
  std::condition_variable idle_cv_;  // queue empty and nothing in flight
  std::deque<MailMessage> queue_;    // guarded by mu_
  bool busy_ = false;                // guarded by mu_: a message in flight
  bool stopping_ = false;            // guarded by mu_
  std::thread worker_;               // started last, joined first
};

}  // namespace weft::auth
