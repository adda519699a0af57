#pragma once

#include <chrono>
#include <optional>

#include "auth/clock.h"
#include "common/status.h"

namespace weft::auth {

// Invitation and password-reset tokens: opaque (opaque_token.h), stored as
// hashes, expiring, and good for exactly one use. This is the pure
// decision; the Store persists the "used" mark with a compare-and-set
// (used = false -> true) so that two concurrent uses cannot both succeed.

struct SingleUseTokenRecord {
  bool used = false;     // consumed already
  bool revoked = false;  // withdrawn (an owner revoked the invitation, or a
                         // newer reset request superseded this one)
  TimePoint expires_at;
};

enum class SingleUseOutcome {
  kAccept,       // use it, and mark it used in the same transaction
  kAlreadyUsed,  // refuse
  kRevoked,      // refuse
  kExpired,      // refuse
  kUnknown,      // refuse: no such token
};

// Default lifetimes.
inline constexpr std::chrono::seconds kInvitationLifetime =
    std::chrono::hours(24 * 7);
inline constexpr std::chrono::seconds kPasswordResetLifetime =
    std::chrono::hours(1);

// Checked in this order: unknown, revoked, used, expired. Pure.
SingleUseOutcome DecideSingleUse(
    const std::optional<SingleUseTokenRecord>& record, TimePoint now);

// Ok for kAccept. Otherwise NotFound for kUnknown and FailedPrecondition
// with "<what> has already been used" / "was revoked" / "has expired" so
// the person knows to ask for a new one. `what` is e.g. "invitation".
Status SingleUseStatus(SingleUseOutcome outcome, std::string_view what);

}  // namespace weft::auth
