#include "auth/refresh_policy.h"

#include <algorithm>

#include "common/check.h"

namespace weft::auth {

Status RefreshDecision::ToStatus() const {
  switch (outcome) {
    case RefreshOutcome::kRotate:
      return Status::Ok();
    case RefreshOutcome::kReuseDetected:
    case RefreshOutcome::kRevoked:
      return Status::Unauthenticated("session ended; sign in again");
    case RefreshOutcome::kExpired:
      return Status::Unauthenticated("session expired; sign in again");
    case RefreshOutcome::kUnknown:
      return Status::Unauthenticated("unknown refresh token");
  }
  WEFT_CHECK_MSG(false, "unknown RefreshOutcome");
  return Status::Internal("unreachable");
}

RefreshPolicy::RefreshPolicy(RefreshPolicyOptions options) : options_(options) {
  WEFT_CHECK_MSG(options_.token_lifetime.count() > 0,
                 "refresh token lifetime must be positive");
  WEFT_CHECK_MSG(options_.session_lifetime >= options_.token_lifetime,
                 "session lifetime shorter than a refresh token's");
}

RefreshPolicy::NewFamily RefreshPolicy::StartFamily(TimePoint now) const {
  return {now + options_.token_lifetime, now + options_.session_lifetime};
}

RefreshDecision RefreshPolicy::Decide(
    const std::optional<RefreshTokenRecord>& record, TimePoint now) const {
  if (!record) return {RefreshOutcome::kUnknown, {}};
  if (record->family_revoked) return {RefreshOutcome::kRevoked, {}};
  if (record->used) return {RefreshOutcome::kReuseDetected, {}};
  if (now >= record->expires_at || now >= record->family_expires_at) {
    return {RefreshOutcome::kExpired, {}};
  }
  return {RefreshOutcome::kRotate,
          std::min(now + options_.token_lifetime, record->family_expires_at)};
}

}  // namespace weft::auth
