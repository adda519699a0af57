#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace weft::auth {

// The longest address accepted (RFC 5321's path limit minus the brackets).
inline constexpr std::size_t kMaxEmailBytes = 254;

// Whether `text` is an address weft accepts: a pragmatic subset of RFC
// 5321/5322 that real mail systems deliver to:
//   address := local "@" domain                      (at most 254 bytes)
//   local   := 1..64 of [A-Za-z0-9!#$%&'*+/=?^_`{|}~.-], no leading,
//              trailing or doubled "."
//   domain  := label ("." label)+                    (at most 253 bytes)
//   label   := 1..63 of [A-Za-z0-9-], not starting or ending with "-";
//              the last label is not all digits
// Refused on purpose: quoted local parts, comments, IP-address literals,
// non-ASCII (internationalised domains must be given in punycode), spaces
// and control characters. Pure; thread-safe.
bool IsValidEmail(std::string_view text);

// The form stored and compared: surrounding ASCII whitespace removed and
// ASCII letters lower-cased (the whole address, so "Ann@X.org" and
// "ann@x.org" are one account). Apply before IsValidEmail.
std::string NormalizeEmail(std::string_view text);

}  // namespace weft::auth
