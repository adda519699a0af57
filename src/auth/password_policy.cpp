#include "auth/password_policy.h"

#include <algorithm>
#include <string>

#include "auth/password_hasher.h"
#include "auth/utf8.h"

namespace weft::auth {
namespace {

// The most common passwords of at least 10 characters in public breach
// corpora (shorter ones already fail min_chars). Lower case.
constexpr std::string_view kCommonPasswords[] = {
    "0123456789",    "0987654321",   "1234567890",    "123456789a",
    "1q2w3e4r5t",    "1q2w3e4r5t6y", "1qaz2wsx3edc",  "a123456789",
    "abcd123456",    "abcdefghij",   "administrator", "asdfghjkl;",
    "changeme123",   "iloveyou12",   "letmein123",    "passw0rd12",
    "passw0rd123",   "password01",   "password12",    "password123",
    "password1234",  "password!!",   "q1w2e3r4t5",    "q1w2e3r4t5y6",
    "qazwsxedcr",    "qwerty1234",   "qwerty12345",   "qwertyuiop",
    "qwertyuiop123", "welcome123",   "zaq12wsxcde",   "zxcvbnm123",
};

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return !a.empty() && AsciiLower(a) == AsciiLower(b);
}

// Whether the text is one code point repeated (by whole UTF-8 sequences).
bool IsOneRepeatedCharacter(std::string_view s) {
  if (s.empty()) return false;
  std::size_t first_len = 1;
  while (first_len < s.size() &&
         (static_cast<unsigned char>(s[first_len]) & 0xC0) == 0x80) {
    ++first_len;
  }
  if (s.size() % first_len != 0) return false;
  for (std::size_t i = first_len; i < s.size(); i += first_len) {
    if (s.substr(i, first_len) != s.substr(0, first_len)) return false;
  }
  return true;
}

// Whether every character is a space: ASCII space or a Unicode space
// separator (U+00A0, U+1680, U+2000..U+200A, U+202F, U+205F, U+3000) or a
// zero-width space (U+200B). Input is valid UTF-8 without controls.
bool IsAllWhitespace(std::string_view s) {
  static constexpr std::string_view kSpaces[] = {
      " ",
      "\xC2\xA0",
      "\xE1\x9A\x80",
      "\xE2\x80\x80",
      "\xE2\x80\x81",
      "\xE2\x80\x82",
      "\xE2\x80\x83",
      "\xE2\x80\x84",
      "\xE2\x80\x85",
      "\xE2\x80\x86",
      "\xE2\x80\x87",
      "\xE2\x80\x88",
      "\xE2\x80\x89",
      "\xE2\x80\x8A",
      "\xE2\x80\x8B",
      "\xE2\x80\xAF",
      "\xE2\x81\x9F",
      "\xE3\x80\x80",
  };
  while (!s.empty()) {
    bool matched = false;
    for (std::string_view space : kSpaces) {
      if (s.substr(0, space.size()) == space) {
        s.remove_prefix(space.size());
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  return true;
}

}  // namespace

FieldErrors CheckPasswordPolicy(std::string_view password,
                                const PasswordContext& context,
                                std::string_view field,
                                const PasswordPolicyOptions& options) {
  FieldErrors errors;
  const std::size_t max_bytes = std::min(options.max_bytes, kMaxPasswordBytes);
  if (password.empty()) {
    errors.Add(field, "required");
    return errors;
  }
  if (password.size() > max_bytes) {
    errors.Add(field, "too_long");
    return errors;
  }
  std::optional<std::size_t> chars = Utf8Length(password);
  if (!chars) {
    errors.Add(field, "invalid_utf8");
  } else if (HasControlCharacter(password)) {
    errors.Add(field, "control_characters");
  } else if (*chars < options.min_chars) {
    errors.Add(field, "too_short");
  } else if (IsAllWhitespace(password)) {
    errors.Add(field, "all_whitespace");
  } else if (IsOneRepeatedCharacter(password)) {
    errors.Add(field, "repeated_character");
  } else if (std::find(std::begin(kCommonPasswords), std::end(kCommonPasswords),
                       AsciiLower(password)) != std::end(kCommonPasswords)) {
    errors.Add(field, "too_common");
  } else {
    std::string_view local = context.email.substr(0, context.email.find('@'));
    if (EqualsIgnoringCase(context.email, password) ||
        EqualsIgnoringCase(local, password) ||
        EqualsIgnoringCase(context.display_name, password)) {
      errors.Add(field, "contains_personal_info");
    }
  }
  return errors;
}

}  // namespace weft::auth
