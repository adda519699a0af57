#include "auth/mime_message.h"

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdio>

#include "auth/sodium_init.h"

namespace weft::auth {
namespace {

std::string Base64Standard(std::string_view bytes) {
  internal::EnsureSodium();
  const std::size_t len =
      sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), out.size(),
                    reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(len - 1);  // drop the NUL libsodium writes
  return out;
}

bool IsPlainAscii(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) return false;
  }
  return true;
}

// RFC 2047 encoded words for `text`, each holding at most 42 bytes of
// whole UTF-8 characters (56 base64 characters, 68 with the markers, so
// that even after "Subject: " a line stays within 78), joined by CRLF SP
// (folding).
std::string EncodedWords(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    std::size_t n = std::min<std::size_t>(42, text.size());
    // Do not split a UTF-8 sequence: back up over continuation bytes.
    while (n < text.size() && n > 0 &&
           (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) {
      --n;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64Standard(text.substr(0, n)) + "?=";
    text.remove_prefix(n);
  }
  return out;
}

// An unstructured header value: as is when short plain ASCII, otherwise
// encoded words.
std::string HeaderText(std::string_view text, std::size_t name_len) {
  if (IsPlainAscii(text) && name_len + 2 + text.size() <= 78) {
    return std::string(text);
  }
  return EncodedWords(text);
}

// A display name as a quoted-string, or encoded words when non-ASCII.
std::string DisplayName(std::string_view name) {
  if (!IsPlainAscii(name) || name.size() > 60) return EncodedWords(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string FormatRfc5322Date(TimePoint t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed",
                                          "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr",
                                            "May", "Jun", "Jul", "Aug",
                                            "Sep", "Oct", "Nov", "Dec"};
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto days = std::chrono::floor<std::chrono::days>(secs);
  std::chrono::year_month_day ymd(days);
  std::chrono::hh_mm_ss hms(secs - days);
  std::chrono::weekday wd(days);
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%s, %02u %s %04d %02d:%02d:%02d +0000",
                kDays[wd.c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1],
                static_cast<int>(ymd.year()),
                static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf.data();
}

std::string FormatMimeMessage(const MimeEnvelope& envelope,
                              const MailMessage& message) {
  std::string out;
  out += "Date: " + FormatRfc5322Date(envelope.date) + "\r\n";
  out += "From: ";
  const std::string address = "<" + envelope.from + ">";
  if (!envelope.from_name.empty()) {
    std::string name = DisplayName(envelope.from_name);
    std::size_t fold = name.rfind("\r\n");
    std::size_t last_line =
        fold == std::string::npos ? 6 + name.size() : name.size() - fold - 2;
    out += name;
    // Fold before the address when it would make the line too long.
    out += last_line + 1 + address.size() > 78 ? "\r\n " : " ";
  }
  out += address + "\r\n";
  out += "To: <" + message.to + ">\r\n";
  out += "Subject: " + HeaderText(message.subject, 7) + "\r\n";
  out += "Message-ID: <" + envelope.message_id + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: base64\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  out += "\r\n";
  std::string body;
  body.reserve(message.text_body.size());
  for (std::size_t i = 0; i < message.text_body.size(); ++i) {
    char c = message.text_body[i];
    if (c == '\n' && (i == 0 || message.text_body[i - 1] != '\r')) {
      body += '\r';
    }
    body += c;
  }
  std::string encoded = Base64Standard(body);
  for (std::size_t i = 0; i < encoded.size(); i += 76) {
    out += encoded.substr(i, 76) + "\r\n";
  }
  return out;
}

}  // namespace weft::auth
