#include "auth/in_memory_mailer.h"

#include "common/check.h"

namespace weft::auth {

Status InMemoryMailer::Send(const MailMessage& message) {
  WEFT_RETURN_IF_ERROR(ValidateMailMessage(message));
  std::lock_guard<std::mutex> lock(mu_);
  if (fail_count_ > 0) {
    --fail_count_;
    return fail_status_;
  }
  messages_.push_back(message);
  return Status::Ok();
}

std::vector<MailMessage> InMemoryMailer::Messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

std::optional<MailMessage> InMemoryMailer::LastTo(std::string_view to) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = messages_.rbegin(); it != messages_.rend(); ++it) {
    if (it->to == to) return *it;
  }
  return std::nullopt;
}

void InMemoryMailer::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  messages_.clear();
}

void InMemoryMailer::FailNext(Status status, int count) {
  WEFT_CHECK_MSG(!status.ok(), "FailNext needs an error status");
  std::lock_guard<std::mutex> lock(mu_);
  fail_status_ = std::move(status);
  fail_count_ = count;
}

}  // namespace weft::auth
