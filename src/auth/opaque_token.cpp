#include "auth/opaque_token.h"

#include <sodium.h>

#include <array>
#include <vector>

#include "auth/base64url.h"
#include "auth/sodium_init.h"
#include "common/check.h"

namespace weft::auth {
namespace {

constexpr std::size_t kTokenRandomBytes = 32;
constexpr std::size_t kTokenBodyChars = 43;  // base64url of 32 bytes

std::string HashHex(std::string_view token) {
  std::array<unsigned char, crypto_generichash_BYTES> digest;  // 32
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  std::array<char, crypto_generichash_BYTES * 2 + 1> hex;
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return std::string(hex.data(), digest.size() * 2);
}

}  // namespace

std::string_view TokenPrefix(TokenPurpose purpose) {
  switch (purpose) {
    case TokenPurpose::kRefresh:
      return "wrt_";
    case TokenPurpose::kInvitation:
      return "win_";
    case TokenPurpose::kPasswordReset:
      return "wpr_";
  }
  WEFT_CHECK_MSG(false, "unknown TokenPurpose");
  return "";
}

std::string RandomUrlSafeString(std::size_t bytes) {
  if (bytes == 0) return "";
  internal::EnsureSodium();
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  std::string out = Base64UrlEncode(
      std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
  sodium_memzero(buf.data(), buf.size());
  return out;
}

IssuedToken IssueOpaqueToken(TokenPurpose purpose) {
  IssuedToken issued;
  issued.token = std::string(TokenPrefix(purpose)) +
                 RandomUrlSafeString(kTokenRandomBytes);
  issued.hash = HashHex(issued.token);
  return issued;
}

Result<std::string> HashOpaqueToken(TokenPurpose purpose,
                                    std::string_view token) {
  std::string_view prefix = TokenPrefix(purpose);
  if (token.size() != prefix.size() + kTokenBodyChars ||
      token.substr(0, prefix.size()) != prefix ||
      !Base64UrlDecode(token.substr(prefix.size())).has_value()) {
    return Status::InvalidArgument("malformed token");
  }
  return HashHex(token);
}

}  // namespace weft::auth
