#pragma once

#include <cstddef>
#include <string_view>

#include "auth/field_errors.h"

namespace weft::auth {

// What a new password must satisfy. Defaults follow NIST SP 800-63B: a
// length floor, a generous ceiling, a block-list of the most common choices,
// and no composition rules (no "one digit, one symbol").
struct PasswordPolicyOptions {
  // Fewest Unicode code points. Default 10.
  std::size_t min_chars = 10;
  // Most bytes (UTF-8). Default 1024; never above kMaxPasswordBytes.
  std::size_t max_bytes = 1024;
};

// Facts about the account that the password must not simply repeat.
struct PasswordContext {
  std::string_view email;
  std::string_view display_name;
};

// Checks a new password (registration, change, reset). Returns no errors
// when it is acceptable; otherwise exactly one reason for `field` (the JSON
// field name the client sent, e.g. "password" or "new_password"), the first
// that applies in this order:
//   required                 empty
//   too_long                 more than max_bytes bytes
//   invalid_utf8             not well-formed UTF-8
//   control_characters       contains U+0000..U+001F or DEL
//   too_short                fewer than min_chars code points
//   all_whitespace           only spaces (ASCII or Unicode space chars)
//   repeated_character       one character repeated ("aaaaaaaaaa")
//   too_common               on the built-in list of common passwords
//                            (case-insensitive)
//   contains_personal_info   equals the email, its local part or the
//                            display name (case-insensitive)
// Pure; thread-safe.
FieldErrors CheckPasswordPolicy(std::string_view password,
                                const PasswordContext& context = {},
                                std::string_view field = "password",
                                const PasswordPolicyOptions& options = {});

}  // namespace weft::auth
