#include "auth/password_hasher.h"

#include <sodium.h>

#include <array>

#include "auth/sodium_init.h"

namespace weft::auth {
namespace {

constexpr std::string_view kArgon2idPrefix = "$argon2id$";

}  // namespace

PasswordHashOptions PasswordHashOptions::MinimumForTests() {
  PasswordHashOptions options;
  options.ops_limit = crypto_pwhash_argon2id_OPSLIMIT_MIN;
  options.mem_limit = crypto_pwhash_argon2id_MEMLIMIT_MIN;
  return options;
}

Result<PasswordHasher> PasswordHasher::Create(PasswordHashOptions options) {
  internal::EnsureSodium();
  if (options.ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      options.ops_limit > crypto_pwhash_argon2id_OPSLIMIT_MAX) {
    return Status::InvalidArgument("argon2id ops_limit out of range");
  }
  if (options.mem_limit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      options.mem_limit > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return Status::InvalidArgument("argon2id mem_limit out of range");
  }
  // The dummy hash is of 32 random bytes nobody knows, so nothing matches.
  std::array<unsigned char, 32> secret;
  randombytes_buf(secret.data(), secret.size());
  PasswordHasher hasher(options, "");
  Result<std::string> dummy = hasher.Hash(std::string_view(
      reinterpret_cast<const char*>(secret.data()), secret.size()));
  sodium_memzero(secret.data(), secret.size());
  if (!dummy.ok()) return dummy.status();
  hasher.dummy_hash_ = std::move(dummy).value();
  return hasher;
}

Result<std::string> PasswordHasher::Hash(std::string_view password) const {
  if (password.size() > kMaxPasswordBytes) {
    return Status::InvalidArgument("password too long");
  }
  std::array<char, crypto_pwhash_argon2id_STRBYTES> out{};
  if (crypto_pwhash_argon2id_str(out.data(), password.data(), password.size(),
                                 options_.ops_limit, options_.mem_limit) != 0) {
    return Status::ResourceExhausted("out of memory hashing a password");
  }
  return std::string(out.data());
}

Result<PasswordMatch> PasswordHasher::Verify(
    std::string_view password, std::string_view stored_hash) const {
  // libsodium needs a NUL-terminated string and tells "malformed" from
  // "mismatch" apart only by -1 for both, so check the format first.
  if (stored_hash.substr(0, kArgon2idPrefix.size()) != kArgon2idPrefix ||
      stored_hash.size() >= crypto_pwhash_argon2id_STRBYTES ||
      stored_hash.find('\0') != std::string_view::npos) {
    return Status::Corruption("stored password hash is not argon2id");
  }
  if (password.size() > kMaxPasswordBytes) return PasswordMatch::kMismatch;
  std::string hash(stored_hash);
  if (crypto_pwhash_argon2id_str_verify(hash.c_str(), password.data(),
                                        password.size()) != 0) {
    return PasswordMatch::kMismatch;
  }
  // 1: different parameters; -1: cannot be parsed (cannot happen after a
  // successful verify, but treat it as "rehash" rather than failing login).
  if (crypto_pwhash_argon2id_str_needs_rehash(hash.c_str(), options_.ops_limit,
                                              options_.mem_limit) != 0) {
    return PasswordMatch::kMatchNeedsRehash;
  }
  return PasswordMatch::kMatch;
}

PasswordMatch PasswordHasher::VerifyDummy(std::string_view password) const {
  Result<PasswordMatch> r = Verify(password, dummy_hash_);
  (void)r;  // a random secret never matches
  return PasswordMatch::kMismatch;
}

}  // namespace weft::auth
