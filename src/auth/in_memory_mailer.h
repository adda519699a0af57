#pragma once

#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "auth/mailer.h"

namespace weft::auth {

// Records every message it is given, for tests. Honours the Mailer
// contract fully: invalid messages are refused and not recorded, and
// FailNext() makes the next sends fail as a broken transport would.
// Thread-safe.
class InMemoryMailer final : public Mailer {
 public:
  Status Send(const MailMessage& message) override;

  // A copy of the messages accepted so far, oldest first.
  std::vector<MailMessage> Messages() const;
  // The last accepted message sent to `to`, if any.
  std::optional<MailMessage> LastTo(std::string_view to) const;
  void Clear();
  // The next `count` sends return `status` (which must not be ok) and
  // record nothing.
  void FailNext(Status status, int count = 1);

 private:
  mutable std::mutex mu_;
  std::vector<MailMessage> messages_;  // guarded by mu_
  Status fail_status_;                 // guarded by mu_
  int fail_count_ = 0;                 // guarded by mu_
};

}  // namespace weft::auth
