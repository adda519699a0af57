#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "auth/clock.h"
#include "auth/mailer.h"

namespace weft::auth {

struct SmtpOptions {
  // "smtp://host:587" (STARTTLS) or "smtps://host:465" (implicit TLS).
  // Other schemes are refused. No default.
  std::string url;
  // Credentials for SMTP AUTH; both empty to skip authentication.
  std::string username;
  std::string password;
  // Envelope sender and From: address (must pass IsValidEmail).
  std::string from;
  // From: display name. Default "weft".
  std::string from_name = "weft";
  // For smtp:// URLs: true refuses to send unless the server offers
  // STARTTLS (credentials and links never cross the network in clear);
  // false uses TLS only when offered (for a relay on localhost). Default
  // true. smtps:// always uses TLS.
  bool require_tls = true;
  // Whole-transaction timeout. Default 30 seconds.
  std::chrono::seconds timeout = std::chrono::seconds(30);
};

// Sends mail through an SMTP server with libcurl, one connection per
// message. Send() blocks for up to options.timeout. Thread-safe: every
// Send() uses its own curl handle.
class SmtpMailer final : public Mailer {
 public:
  // InvalidArgument for a bad URL scheme, sender, display name or timeout.
  // `clock` (for the Date header) must outlive the mailer.
  static Result<std::unique_ptr<SmtpMailer>> Create(SmtpOptions options,
                                                    const Clock& clock);

  // Ok once the server accepted the message. InvalidArgument for a message
  // failing ValidateMailMessage; FailedPrecondition when the server refused
  // the recipient; Unavailable for any other failure (connection, TLS,
  // authentication, timeout). Error messages never contain the password.
  Status Send(const MailMessage& message) override;

 private:
  SmtpMailer(SmtpOptions options, const Clock& clock)
      : options_(std::move(options)), clock_(clock) {}

  const SmtpOptions options_;
  const Clock& clock_;
};

}  // namespace weft::auth
