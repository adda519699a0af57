#include "auth/refresh_seal.h"

#include <sodium.h>

#include "auth/base64url.h"
#include "auth/sodium_init.h"
#include "common/check.h"

namespace weft::auth {

namespace {
constexpr std::string_view kDomain = "weft refresh-token seal v1";
constexpr std::size_t kSealBytes = 16;
}  // namespace

RefreshTokenSeal::RefreshTokenSeal(std::string_view key) {
  internal::EnsureSodium();
  unsigned char k[crypto_auth_hmacsha256_KEYBYTES];
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, sizeof k);
  crypto_generichash_update(
      &st, reinterpret_cast<const unsigned char*>(kDomain.data()),
      kDomain.size());
  crypto_generichash_update(
      &st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_generichash_final(&st, k, sizeof k);
  key_.assign(reinterpret_cast<const char*>(k), sizeof k);
  sodium_memzero(k, sizeof k);
}

std::string RefreshTokenSeal::Seal(std::string_view family_id,
                                   std::string_view token) const {
  WEFT_CHECK(family_id.size() <= 255 && token.size() <= 255);
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(
      &st, reinterpret_cast<const unsigned char*>(key_.data()), key_.size());
  // Lengths first: ("ab", "c") and ("a", "bc") seal differently.
  const unsigned char lens[2] = {static_cast<unsigned char>(family_id.size()),
                                 static_cast<unsigned char>(token.size())};
  crypto_auth_hmacsha256_update(&st, lens, sizeof lens);
  crypto_auth_hmacsha256_update(
      &st, reinterpret_cast<const unsigned char*>(family_id.data()),
      family_id.size());
  crypto_auth_hmacsha256_update(
      &st, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&st, mac);
  sodium_memzero(&st, sizeof st);
  return Base64UrlEncode(
      std::string_view(reinterpret_cast<const char*>(mac), kSealBytes));
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
