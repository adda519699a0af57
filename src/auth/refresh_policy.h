#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "auth/clock.h"
#include "common/status.h"

namespace weft::auth {

// Refresh-token rotation with reuse detection (OAuth 2.0 Security BCP
// §4.14). Each login starts a *family*; every successful refresh marks the
// presented token used and issues its successor in the same family. A used
// token presented again means two parties hold it (the legitimate client
// already rotated it, or a thief did): the whole family is revoked, which
// signs out both. This file is the pure decision; the Store persists it.

// What storage knows about a presented token (looked up by its hash).
struct RefreshTokenRecord {
  std::string family_id;
  std::string user_id;
  bool used = false;            // rotated already
  bool family_revoked = false;  // logout, reuse, password change/reset
  TimePoint expires_at;         // this token's own expiry
  TimePoint family_expires_at;  // absolute end of the session
};

enum class RefreshOutcome {
  kRotate,         // accept: mark used, issue the successor
  kReuseDetected,  // refuse, and revoke the whole family
  kRevoked,        // refuse: the family was revoked before
  kExpired,        // refuse: the token or its family has expired
  kUnknown,        // refuse: no such token
};

struct RefreshDecision {
  RefreshOutcome outcome;
  // For kRotate: the successor's expiry, never past the family's end.
  TimePoint next_expires_at;

  bool Accepted() const { return outcome == RefreshOutcome::kRotate; }
  // Whether the caller must revoke record.family_id now.
  bool RevokeFamily() const {
    return outcome == RefreshOutcome::kReuseDetected;
  }
  // Ok for kRotate; Unauthenticated (401) with a message otherwise. The
  // client cannot tell reuse from revocation (both "session ended").
  Status ToStatus() const;
};

struct RefreshPolicyOptions {
  // How long one refresh token stays usable (sliding). Default 30 days.
  std::chrono::seconds token_lifetime = std::chrono::hours(24 * 30);
  // Absolute session length from login, however often it is refreshed.
  // Default 90 days.
  std::chrono::seconds session_lifetime = std::chrono::hours(24 * 90);
};

// Immutable; thread-safe.
class RefreshPolicy {
 public:
  explicit RefreshPolicy(RefreshPolicyOptions options = {});

  struct NewFamily {
    TimePoint token_expires_at;
    TimePoint family_expires_at;
  };
  // Expiries for the first token of a family started (at login) at `now`.
  NewFamily StartFamily(TimePoint now) const;

  // Decides what to do with a token presented at `now`; `record` is
  // nullopt when no token has the presented hash. Checked in this order:
  // unknown, revoked family, used (reuse), expired. Reuse wins over expiry:
  // a copy of a used token is a stolen token whatever its age.
  //
  // Races: two requests may read the same unused record. The Store must
  // mark the token used with a compare-and-set (used = false -> true) and,
  // when that finds it already used, call Decide() again on the fresh
  // record, which then answers kReuseDetected.
  RefreshDecision Decide(const std::optional<RefreshTokenRecord>& record,
                         TimePoint now) const;

  const RefreshPolicyOptions& options() const { return options_; }

 private:
  RefreshPolicyOptions options_;
};

}  // namespace weft::auth
