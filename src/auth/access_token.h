#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/clock.h"
#include "common/status.h"

namespace weft::auth {

// Access tokens are compact JWS (RFC 7515/7519) signed with HMAC-SHA256
// under one server secret. The algorithm is fixed by the server: the header
// is always {"alg":"HS256","typ":"JWT"}, and a token whose header names any
// other algorithm ("none", "RS256", "HS512", ...) is refused before its
// signature is even looked at. docs/auth.md describes the format.

// The claims weft puts in an access token. Times are Unix seconds.
struct AccessTokenClaims {
  std::string subject;       // "sub": the user id; never empty
  std::int64_t issued_at;    // "iat"
  std::int64_t expires_at;   // "exp"; always > issued_at
  std::string token_id;      // "jti": random, unique per token; never empty
  std::string session_id;    // "sid": refresh-token family; "" = absent
  std::int64_t version = 0;  // "ver": the user's token version when issued;
                             // the user's version is bumped on password
                             // change/reset, which retires older tokens.

  friend bool operator==(const AccessTokenClaims&,
                         const AccessTokenClaims&) = default;
};

struct AccessTokenOptions {
  // Lifetime of a new token (exp - iat). Default 15 minutes.
  std::chrono::seconds lifetime = std::chrono::minutes(15);
  // Tolerated clock difference between servers: a token is accepted until
  // exp + clock_skew, and an iat up to clock_skew in the future is
  // accepted. Default 60 seconds.
  std::chrono::seconds clock_skew = std::chrono::seconds(60);
};

// Why Verify() refused a token. All of them are Unauthenticated (401) to
// the client; the reason is for logs, metrics and the WWW-Authenticate
// error description (a client refreshes on kExpired).
enum class AccessTokenError {
  kMalformed,             // not three base64url parts of JSON objects
  kUnsupportedAlgorithm,  // header alg is not HS256 (incl. "none"), or crit
  kBadSignature,          // signature does not match
  kInvalidClaims,         // a claim is missing, mistyped or inconsistent
  kExpired,               // now >= exp + clock_skew
  kNotYetValid,           // iat (or nbf) > now + clock_skew
};

// "malformed", "unsupported_algorithm", "bad_signature", "invalid_claims",
// "expired", "not_yet_valid". Stable.
std::string_view AccessTokenErrorName(AccessTokenError error);

// Signs and verifies access tokens. Immutable after Create(), so every
// method is thread-safe.
class AccessTokenCodec {
 public:
  // The shortest secret accepted (HMAC-SHA256 wants >= 256 bits).
  static constexpr std::size_t kMinSecretBytes = 32;
  // Tokens longer than this are refused without parsing.
  static constexpr std::size_t kMaxTokenBytes = 4096;

  // InvalidArgument when the secret is shorter than kMinSecretBytes, the
  // lifetime is not positive or the skew is negative. The secret is raw
  // bytes (e.g. read from a file or decoded from the environment).
  static Result<AccessTokenCodec> Create(std::string secret,
                                         AccessTokenOptions options = {});

  // A new random secret for development mode (weftd keeps it in its data
  // directory): 64 printable base64url characters encoding 384 random
  // bits, usable as is as the `secret` of Create(), in a file or in an
  // environment variable.
  static std::string GenerateSecret();

  // Claims for a new token: iat = now, exp = now + lifetime, a fresh random
  // jti (128 bits). `user_id` must not be empty (checked).
  AccessTokenClaims NewClaims(std::string_view user_id,
                              std::string_view session_id, std::int64_t version,
                              TimePoint now) const;

  // The compact serialisation "header.payload.signature". The claims must
  // be well-formed (non-empty sub and jti, exp > iat); that is checked, as
  // a violation is a programmer error.
  std::string Sign(const AccessTokenClaims& claims) const;

  // Checks a token presented at `now`. On success returns its claims. On
  // failure returns Unauthenticated and, when `why` is not null, stores the
  // reason there. Never throws, whatever the bytes. The signature is
  // compared in constant time.
  Result<AccessTokenClaims> Verify(std::string_view token, TimePoint now,
                                   AccessTokenError* why = nullptr) const;

  const AccessTokenOptions& options() const { return options_; }

 private:
  AccessTokenCodec(std::string secret, AccessTokenOptions options)
      : secret_(std::move(secret)), options_(options) {}

  // HMAC-SHA256 of `data` under secret_, 32 raw bytes.
  std::string Mac(std::string_view data) const;

  std::string secret_;
  AccessTokenOptions options_;
};

}  // namespace weft::auth
