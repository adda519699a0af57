#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::auth {

// Opaque bearer secrets: refresh tokens, invitation tokens, password-reset
// tokens. A token is a purpose prefix and 256 random bits in base64url:
//   token := prefix base64url(32 random bytes)        (47 ASCII chars)
//   prefix := "wrt_" (refresh) | "win_" (invitation) | "wpr_" (reset)
// The prefix lets secret scanners recognise leaked weft tokens and makes a
// token of one purpose useless as another. Only the hash is ever stored:
//   hash := lowercase hex of BLAKE2b-256(token)       (64 chars)
// A plain fast hash is enough because the token has 256 bits of entropy: no
// dictionary to try. Thread-safe (libsodium's randombytes is).

enum class TokenPurpose { kRefresh, kInvitation, kPasswordReset };

// "wrt_", "win_", "wpr_".
std::string_view TokenPrefix(TokenPurpose purpose);

struct IssuedToken {
  std::string token;  // give to the client once; never store or log it
  std::string hash;   // store this; look the token up by it
};

// A fresh random token of `purpose` and its hash.
IssuedToken IssueOpaqueToken(TokenPurpose purpose);

// The storage hash of a presented token. InvalidArgument when the token is
// not of `purpose`'s shape (prefix, length, alphabet), so the caller can
// refuse it without a storage lookup.
Result<std::string> HashOpaqueToken(TokenPurpose purpose,
                                    std::string_view token);

// `bytes` random bytes as unpadded base64url: for ids that must not be
// guessable, such as refresh-token family ids (16 bytes = 128 bits).
std::string RandomUrlSafeString(std::size_t bytes);

}  // namespace weft::auth
