#pragma once

#include <string>
#include <string_view>

namespace weft::auth {

// A MAC over (refresh-token family, token) under a server key. The store
// keeps only hashes of a family's current and previous token; the seal
// lets the server recognise every token it ever issued for a family, so
// that presenting any superseded one (a thief who refreshed twice leaves
// the victim holding a token two rotations old) ends the session, while
// a token nobody was issued (made up by someone who read the family id in
// an access token) still ends nothing.
class RefreshTokenSeal {
 public:
  // `key` is secret material of any length (weftd derives it from its JWT
  // secret).
  explicit RefreshTokenSeal(std::string_view key) : key_(key) {}

  // base64url, kSealChars characters (128 bits).
  std::string Seal(std::string_view family_id, std::string_view token) const;
  // In constant time.
  bool Valid(std::string_view family_id, std::string_view token,
             std::string_view seal) const;

  static constexpr std::size_t kSealChars = 22;

 private:
  std::string key_;
};

}  // namespace weft::auth
