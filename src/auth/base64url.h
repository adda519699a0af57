#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace weft::auth {

// base64url without padding (RFC 4648 §5), as JWTs and weft's opaque tokens
// use it. Pure functions; thread-safe.

// Encodes any bytes. Never fails.
std::string Base64UrlEncode(std::string_view bytes);

// Decodes canonical unpadded base64url. Returns nullopt (never throws) for
// any character outside [A-Za-z0-9_-], for padding '=', for an impossible
// length (len % 4 == 1) and for non-zero unused trailing bits. Rejecting
// non-canonical input means every byte string has exactly one encoding, so
// a token cannot be altered into another spelling that decodes the same.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace weft::auth
