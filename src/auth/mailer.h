#pragma once

#include <string>

#include "common/status.h"

namespace weft::auth {

// One plain-text email. The sender address belongs to the Mailer's
// configuration, not to the message.
struct MailMessage {
  std::string to;         // one address; must pass IsValidEmail
  std::string subject;    // one line: no CR/LF/controls, 1..200 characters
  std::string text_body;  // UTF-8; may span lines

  friend bool operator==(const MailMessage&, const MailMessage&) = default;
};

// Ok, or InvalidArgument naming what is wrong. Every Mailer checks this
// before sending: a CR/LF in a subject or address would otherwise let the
// text inject mail headers.
Status ValidateMailMessage(const MailMessage& message);

// Sends email: SMTP in production, the log in development, memory in
// tests. Send() blocks until the message is handed over (or has failed),
// so the HTTP layer calls it off the I/O threads, and may answer the
// client before it finishes (a reset request answers the same either way).
//
// Implementations are thread-safe.
class Mailer {
 public:
  virtual ~Mailer() = default;
  // Ok when the message was accepted for delivery. InvalidArgument for a
  // message failing ValidateMailMessage; Unavailable when the transport
  // failed (retrying may help).
  virtual Status Send(const MailMessage& message) = 0;
};

}  // namespace weft::auth
