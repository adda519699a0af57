#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::auth {

// argon2id cost parameters (libsodium crypto_pwhash, algorithm argon2id13).
// The parameters are stored inside every hash string, so changing them never
// breaks existing hashes: Verify() reports kMatchNeedsRehash and the login
// flow stores a fresh hash.
struct PasswordHashOptions {
  // Passes over memory. Default 2 (libsodium's OPSLIMIT_INTERACTIVE).
  std::uint64_t ops_limit = 2;
  // Memory in bytes. Default 64 MiB (libsodium's MEMLIMIT_INTERACTIVE):
  // about 0.1 s per hash on one core, above OWASP's argon2id minimum of
  // 19 MiB with 2 passes.
  std::size_t mem_limit = std::size_t{64} << 20;

  // The cheapest parameters libsodium accepts (1 pass, 8 KiB). For tests
  // only: far too weak for real passwords.
  static PasswordHashOptions MinimumForTests();
};

// The longest password Hash() and Verify() accept, in bytes. The policy
// (password_policy.h) enforces the same bound with a field-level error.
inline constexpr std::size_t kMaxPasswordBytes = 1024;

enum class PasswordMatch {
  kMismatch,          // wrong password
  kMatch,             // right password, hash parameters are current
  kMatchNeedsRehash,  // right password; store Hash(password) again
};

// Hashes and verifies passwords with argon2id. Hash strings are the
// self-describing PHC format "$argon2id$v=19$m=65536,t=2,p=1$salt$hash"
// (ASCII, at most 128 bytes), each with its own random salt.
//
// Thread-safe: every method is const and the object is immutable. Each
// call costs the configured time and memory; the HTTP layer must run them
// off the I/O threads and rate-limit the routes that call them.
class PasswordHasher {
 public:
  // InvalidArgument when the options are outside libsodium's bounds.
  // Computes one hash up front (for VerifyDummy), so it costs one Hash().
  static Result<PasswordHasher> Create(PasswordHashOptions options = {});

  // A new hash of `password`. InvalidArgument when the password is longer
  // than kMaxPasswordBytes; ResourceExhausted when the memory could not be
  // allocated. Any bytes are accepted (policy is checked elsewhere).
  Result<std::string> Hash(std::string_view password) const;

  // Checks `password` against `stored_hash` (made by Hash()). Corruption
  // when `stored_hash` is not an argon2id hash string; a wrong password, or
  // one longer than kMaxPasswordBytes, is kMismatch, not an error.
  Result<PasswordMatch> Verify(std::string_view password,
                               std::string_view stored_hash) const;

  // Spends the same time as Verify() against a hash that matches nothing.
  // Login calls it when the email is unknown, so response times do not
  // reveal which emails have accounts. Always returns kMismatch.
  PasswordMatch VerifyDummy(std::string_view password) const;

  const PasswordHashOptions& options() const { return options_; }

 private:
  PasswordHasher(PasswordHashOptions options, std::string dummy_hash)
      : options_(options), dummy_hash_(std::move(dummy_hash)) {}

  PasswordHashOptions options_;
  std::string dummy_hash_;
};

}  // namespace weft::auth
