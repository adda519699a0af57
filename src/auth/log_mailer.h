#pragma once

#include <functional>
#include <string_view>

#include "auth/mailer.h"

namespace weft::auth {

// The development mailer: instead of sending, writes each message as one
// JSON line to `sink`:
//   {"event":"mail","to":"...","subject":"...","body":"..."}
// (newlines in the body are escaped, so it stays one line). weftd passes a
// sink that writes to its JSON log, so a developer can click the reset or
// invitation link in the log. It puts secrets (those links) in the log:
// never use it in production. Thread-safe if `sink` is.
class LogMailer final : public Mailer {
 public:
  using Sink = std::function<void(std::string_view json_line)>;
  explicit LogMailer(Sink sink);

  // Validates, then calls the sink once. Never Unavailable.
  Status Send(const MailMessage& message) override;

 private:
  Sink sink_;
};

}  // namespace weft::auth
