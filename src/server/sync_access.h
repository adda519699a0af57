#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"
#include "proto/message.h"

namespace weft::server {

// Who a sync connection belongs to, from its access token.
struct Identity {
  std::string user_id;
  std::chrono::system_clock::time_point expires_at;
  // The user's token version the access token was issued under (a digest
  // of the password hash): a password change retires it.
  std::int64_t token_version = 0;
  // The session (refresh-token family) the token belongs to: signing it
  // out ends the sync session too. Empty: none to check.
  std::string session_id{};
};

// Checks access tokens for the sync endpoint. Thread-safe.
class SyncAuthenticator {
 public:
  virtual ~SyncAuthenticator() = default;
  // kUnauthenticated for a bad, tampered or expired token.
  virtual Result<Identity> Authenticate(std::string_view access_token) = 0;
  // Whether an identity Authenticate gave still holds: kUnauthenticated
  // once its user is gone or its password changed. (Expiry is the
  // connection's own check.)
  virtual Status StillValid(const Identity&) { return Status::Ok(); }
};

// Answers which role a user has on a document. Thread-safe.
class DocumentAccess {
 public:
  virtual ~DocumentAccess() = default;
  // kNotFound when the document does not exist or the user may not see it
  // (the two are not told apart, so nothing leaks).
  virtual Result<proto::Role> RoleFor(const std::string& user_id,
                                      const std::string& doc) = 0;
};

}  // namespace weft::server
