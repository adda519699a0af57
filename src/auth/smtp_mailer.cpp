#include "auth/smtp_mailer.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>

#include "auth/email_address.h"
#include "auth/mime_message.h"
#include "auth/opaque_token.h"
#include "auth/utf8.h"
#include "common/check.h"

namespace weft::auth {
namespace {

void EnsureCurl() {
  static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  WEFT_CHECK_MSG(ok, "curl_global_init failed");
}

struct UploadSource {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t ReadCallback(char* buffer, std::size_t size, std::size_t nitems,
                         void* userdata) {
  auto* src = static_cast<UploadSource*>(userdata);
  std::size_t n = std::min(size * nitems, src->data.size() - src->offset);
  std::memcpy(buffer, src->data.data() + src->offset, n);
  src->offset += n;
  return n;
}

// RAII for the curl handle and the recipient list.
struct CurlHandles {
  CURL* curl = curl_easy_init();
  curl_slist* recipients = nullptr;
  ~CurlHandles() {
    curl_slist_free_all(recipients);
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

}  // namespace

Result<std::unique_ptr<SmtpMailer>> SmtpMailer::Create(SmtpOptions options,
                                                       const Clock& clock) {
  if (options.url.rfind("smtp://", 0) != 0 &&
      options.url.rfind("smtps://", 0) != 0) {
    return Status::InvalidArgument(
        "SMTP url must start with smtp:// or smtps://");
  }
  if (HasControlCharacter(options.url) ||
      options.url.find(' ') != std::string::npos) {
    return Status::InvalidArgument("SMTP url contains spaces or controls");
  }
  if (!IsValidEmail(options.from)) {
    return Status::InvalidArgument("SMTP sender is not a valid address");
  }
  if (HasControlCharacter(options.from_name) ||
      !Utf8Length(options.from_name).has_value()) {
    return Status::InvalidArgument("SMTP sender name must be one line");
  }
  if (options.timeout <= std::chrono::seconds(0)) {
    return Status::InvalidArgument("SMTP timeout must be positive");
  }
  if (options.username.empty() != options.password.empty()) {
    return Status::InvalidArgument("SMTP username and password go together");
  }
  EnsureCurl();
  return std::unique_ptr<SmtpMailer>(new SmtpMailer(std::move(options), clock));
}

Status SmtpMailer::Send(const MailMessage& message) {
  WEFT_RETURN_IF_ERROR(ValidateMailMessage(message));
  MimeEnvelope envelope;
  envelope.from = options_.from;
  envelope.from_name = options_.from_name;
  envelope.date = clock_.Now();
  envelope.message_id = RandomUrlSafeString(18) + "@" +
                        options_.from.substr(options_.from.find('@') + 1);
  const std::string text = FormatMimeMessage(envelope, message);
  UploadSource source{text};

  CurlHandles h;
  if (h.curl == nullptr) return Status::Unavailable("curl_easy_init failed");
  std::string from = "<" + options_.from + ">";
  std::string rcpt = "<" + message.to + ">";
  h.recipients = curl_slist_append(nullptr, rcpt.c_str());
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = h.curl;
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_TIMEOUT,
                   static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(
      c, CURLOPT_CONNECTTIMEOUT,
      static_cast<long>(std::min<std::int64_t>(options_.timeout.count(), 10)));
  curl_easy_setopt(c, CURLOPT_USE_SSL,
                   static_cast<long>(options_.require_tls ? CURLUSESSL_ALL
                                                          : CURLUSESSL_TRY));
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, h.recipients);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadCallback);
  curl_easy_setopt(c, CURLOPT_READDATA, &source);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);

  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return Status::Ok();
  std::string detail = error[0] != '\0' ? error : curl_easy_strerror(rc);
  long smtp_code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &smtp_code);
  // libcurl reports a refused RCPT TO as a send error with the server's
  // 5xx reply; that is permanent, unlike the other failures.
  if (rc == CURLE_SEND_ERROR && smtp_code >= 500 && smtp_code < 600 &&
      detail.find("RCPT") != std::string::npos) {
    return Status::FailedPrecondition("mail server refused the recipient: " +
                                      detail);
  }
  return Status::Unavailable("sending mail failed: " + detail);
}

}  // namespace weft::auth
