#pragma once

#include <string>
#include <string_view>

#include "auth/clock.h"
#include "auth/mailer.h"

namespace weft::auth {

// The envelope facts a MIME message needs besides the MailMessage.
struct MimeEnvelope {
  std::string from;        // sender address (must pass IsValidEmail)
  std::string from_name;   // display name; "" for none; no control chars
  TimePoint date;          // the Date header
  std::string message_id;  // without brackets, e.g. "abc@example.com"
};

// The RFC 5322 text of `message` (which must pass ValidateMailMessage),
// with CRLF line endings:
//   Date, From, To, Subject, Message-ID, MIME-Version: 1.0,
//   Content-Type: text/plain; charset=utf-8,
//   Content-Transfer-Encoding: base64, Auto-Submitted: auto-generated,
//   a blank line, then the body (LF normalised to CRLF) in base64 lines of
//   76 characters.
// A non-ASCII subject or display name is sent as RFC 2047 encoded words
// ("=?UTF-8?B?...?="), folded so no header line exceeds 78 characters. A
// base64 body never has a line starting with "." nor an over-long line, so
// SMTP needs no escaping. Pure; thread-safe.
std::string FormatMimeMessage(const MimeEnvelope& envelope,
                              const MailMessage& message);

// "Sun, 22 Nov 2026 04:27:46 +0000" (RFC 5322 date-time, always UTC).
std::string FormatRfc5322Date(TimePoint t);

}  // namespace weft::auth
