#include "auth/mailer.h"

#include "auth/email_address.h"
#include "auth/utf8.h"

namespace weft::auth {

Status ValidateMailMessage(const MailMessage& message) {
  if (!IsValidEmail(message.to)) {
    return Status::InvalidArgument("mail recipient is not a valid address");
  }
  std::optional<std::size_t> subject_chars = Utf8Length(message.subject);
  if (!subject_chars || *subject_chars == 0 || *subject_chars > 200 ||
      HasControlCharacter(message.subject)) {
    return Status::InvalidArgument(
        "mail subject must be one line of 1 to 200 characters");
  }
  if (!Utf8Length(message.text_body)) {
    return Status::InvalidArgument("mail body is not valid UTF-8");
  }
  return Status::Ok();
}

}  // namespace weft::auth
