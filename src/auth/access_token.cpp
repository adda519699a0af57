#include "auth/access_token.h"

#include <sodium.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <limits>
#include <optional>

#include "auth/base64url.h"
#include "auth/hmac.h"
#include "auth/opaque_token.h"
#include "auth/sodium_init.h"

namespace weft::auth {
namespace {

namespace json = boost::json;

// The header of every token weft signs.
constexpr std::string_view kHeaderJson = R"({"alg":"HS256","typ":"JWT"})";

struct Refusal {
  AccessTokenError error;
  const char* message;
};

// Parses base64url text holding a JSON object; nullopt on any failure.
std::optional<json::object> DecodeJsonObject(std::string_view part) {
  std::optional<std::string> bytes = Base64UrlDecode(part);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 8;
  json::value v = json::parse(*bytes, ec, {}, opts);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::optional<std::int64_t> IntClaim(const json::object& o,
                                     std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64() &&
      it->value().as_uint64() <=
          static_cast<std::uint64_t>(
              std::numeric_limits<std::int64_t>::max())) {
    return static_cast<std::int64_t>(it->value().as_uint64());
  }
  return std::nullopt;
}

// A string claim: the string (possibly empty) when present and a string;
// nullopt when absent or of another type (`present` tells them apart).
std::optional<std::string> StringClaim(const json::object& o,
                                       std::string_view key, bool* present) {
  auto it = o.find(key);
  *present = it != o.end();
  if (!*present || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().as_string());
}

}  // namespace

std::string_view AccessTokenErrorName(AccessTokenError error) {
  switch (error) {
    case AccessTokenError::kMalformed:
      return "malformed";
    case AccessTokenError::kUnsupportedAlgorithm:
      return "unsupported_algorithm";
    case AccessTokenError::kBadSignature:
      return "bad_signature";
    case AccessTokenError::kInvalidClaims:
      return "invalid_claims";
    case AccessTokenError::kExpired:
      return "expired";
    case AccessTokenError::kNotYetValid:
      return "not_yet_valid";
  }
  WEFT_CHECK_MSG(false, "unknown AccessTokenError");
  return "";
}

Result<AccessTokenCodec> AccessTokenCodec::Create(std::string secret,
                                                  AccessTokenOptions options) {
  internal::EnsureSodium();
  if (secret.size() < kMinSecretBytes) {
    return Status::InvalidArgument("the JWT secret must be at least 32 bytes");
  }
  if (options.lifetime <= std::chrono::seconds(0)) {
    return Status::InvalidArgument("access token lifetime must be positive");
  }
  if (options.clock_skew < std::chrono::seconds(0)) {
    return Status::InvalidArgument("clock skew must not be negative");
  }
  return AccessTokenCodec(std::move(secret), options);
}

std::string AccessTokenCodec::GenerateSecret() {
  return RandomUrlSafeString(48);
}

AccessTokenClaims AccessTokenCodec::NewClaims(std::string_view user_id,
                                              std::string_view session_id,
                                              std::int64_t version,
                                              TimePoint now) const {
  WEFT_CHECK_MSG(!user_id.empty(), "access token for an empty user id");
  unsigned char jti[16];
  randombytes_buf(jti, sizeof jti);
  AccessTokenClaims claims;
  claims.subject = std::string(user_id);
  claims.issued_at = ToUnixSeconds(now);
  claims.expires_at = claims.issued_at + options_.lifetime.count();
  claims.token_id = Base64UrlEncode(
      std::string_view(reinterpret_cast<const char*>(jti), sizeof jti));
  claims.session_id = std::string(session_id);
  claims.version = version;
  return claims;
}

std::string AccessTokenCodec::Mac(std::string_view data) const {
  return HmacSha256(secret_, data);
}

std::string AccessTokenCodec::Sign(const AccessTokenClaims& claims) const {
  WEFT_CHECK_MSG(!claims.subject.empty(), "access token without sub");
  WEFT_CHECK_MSG(!claims.token_id.empty(), "access token without jti");
  WEFT_CHECK_MSG(claims.expires_at > claims.issued_at,
                 "access token with exp <= iat");
  json::object payload;
  payload["sub"] = claims.subject;
  payload["iat"] = claims.issued_at;
  payload["exp"] = claims.expires_at;
  payload["jti"] = claims.token_id;
  if (!claims.session_id.empty()) payload["sid"] = claims.session_id;
  payload["ver"] = claims.version;
  std::string token = Base64UrlEncode(kHeaderJson);
  token += '.';
  token += Base64UrlEncode(json::serialize(payload));
  std::string mac = Mac(token);
  token += '.';
  token += Base64UrlEncode(mac);
  return token;
}

Result<AccessTokenClaims> AccessTokenCodec::Verify(
    std::string_view token, TimePoint now, AccessTokenError* why) const {
  auto refuse = [why](AccessTokenError error,
                      const char* message) -> Result<AccessTokenClaims> {
    if (why != nullptr) *why = error;
    return Status::Unauthenticated(message);
  };
  if (token.empty() || token.size() > kMaxTokenBytes) {
    return refuse(AccessTokenError::kMalformed, "malformed access token");
  }
  std::size_t dot1 = token.find('.');
  std::size_t dot2 = dot1 == std::string_view::npos ? std::string_view::npos
                                                    : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos ||
      token.find('.', dot2 + 1) != std::string_view::npos || dot1 == 0 ||
      dot2 == dot1 + 1) {
    return refuse(AccessTokenError::kMalformed, "malformed access token");
  }
  std::string_view header_part = token.substr(0, dot1);
  std::string_view payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_part = token.substr(dot2 + 1);

  // 1. The header: the algorithm is ours to choose, not the token's.
  std::optional<json::object> header = DecodeJsonObject(header_part);
  if (!header) {
    return refuse(AccessTokenError::kMalformed, "malformed access token");
  }
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->value().is_string() ||
      alg->value().as_string() != "HS256" || header->contains("crit")) {
    return refuse(AccessTokenError::kUnsupportedAlgorithm,
                  "access token algorithm not accepted");
  }
  auto typ = header->find("typ");
  if (typ != header->end() &&
      (!typ->value().is_string() || typ->value().as_string() != "JWT")) {
    return refuse(AccessTokenError::kMalformed, "malformed access token");
  }

  // 2. The signature over the exact bytes "header.payload" (an empty
  // signature, as alg "none" tokens carry, fails here too).
  std::optional<std::string> signature = Base64UrlDecode(signature_part);
  if (!signature) {
    return refuse(AccessTokenError::kMalformed, "malformed access token");
  }
  std::string expected = Mac(token.substr(0, dot2));
  if (signature->size() != expected.size() ||
      sodium_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
    return refuse(AccessTokenError::kBadSignature,
                  "access token signature does not match");
  }

  // 3. The claims, now known to be ours.
  std::optional<json::object> payload = DecodeJsonObject(payload_part);
  if (!payload) {
    return refuse(AccessTokenError::kMalformed, "malformed access token");
  }
  AccessTokenClaims claims;
  bool present = false;
  std::optional<std::string> sub = StringClaim(*payload, "sub", &present);
  std::optional<std::string> jti = StringClaim(*payload, "jti", &present);
  std::optional<std::string> sid = StringClaim(*payload, "sid", &present);
  bool sid_present = present;
  std::optional<std::int64_t> iat = IntClaim(*payload, "iat");
  std::optional<std::int64_t> exp = IntClaim(*payload, "exp");
  std::optional<std::int64_t> ver = IntClaim(*payload, "ver");
  if (!sub || sub->empty() || !jti || jti->empty() || !iat || !exp || !ver ||
      (sid_present && !sid) || *exp <= *iat) {
    return refuse(AccessTokenError::kInvalidClaims,
                  "access token claims are invalid");
  }
  const std::int64_t now_s = ToUnixSeconds(now);
  const std::int64_t skew = options_.clock_skew.count();
  // Compare without overflow: exp + skew could exceed int64 for hostile
  // values, but a hostile token cannot get here unsigned.
  if (now_s - skew >= *exp) {
    return refuse(AccessTokenError::kExpired, "access token expired");
  }
  std::optional<std::int64_t> nbf = IntClaim(*payload, "nbf");
  if (*iat - skew > now_s || (nbf && *nbf - skew > now_s)) {
    return refuse(AccessTokenError::kNotYetValid,
                  "access token is not valid yet");
  }
  claims.subject = std::move(*sub);
  claims.issued_at = *iat;
  claims.expires_at = *exp;
  claims.token_id = std::move(*jti);
  claims.session_id = sid ? std::move(*sid) : std::string();
  claims.version = *ver;
  return claims;
}

}  // namespace weft::auth
