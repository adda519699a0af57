#include "auth/refresh_seal.h"

#include <sodium.h>

#include "auth/base64url.h"
#include "auth/hmac.h"
#include "common/check.h"

namespace weft::auth {

namespace {
constexpr std::size_t kSealBytes = 16;
}  // namespace

std::string RefreshTokenSeal::Seal(std::string_view family_id,
                                   std::string_view token) const {
  WEFT_CHECK(family_id.size() <= 255 && token.size() <= 255);
  // Lengths first: ("ab", "c") and ("a", "bc") seal differently.
  std::string message{static_cast<char>(family_id.size()),
                      static_cast<char>(token.size())};
  message.append(family_id).append(token);
  return Base64UrlEncode(HmacSha256(key_, message).substr(0, kSealBytes));
}

bool RefreshTokenSeal::Valid(std::string_view family_id, std::string_view token,
                             std::string_view seal) const {
  if (seal.size() != kSealChars || family_id.size() > 255 ||
      token.size() > 255) {
    return false;
  }
  const std::string expected = Seal(family_id, token);
  return sodium_memcmp(expected.data(), seal.data(), kSealChars) == 0;
}

}  // namespace weft::auth
