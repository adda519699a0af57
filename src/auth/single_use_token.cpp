#include "auth/single_use_token.h"

#include <string>

#include "common/check.h"

namespace weft::auth {

SingleUseOutcome DecideSingleUse(
    const std::optional<SingleUseTokenRecord>& record, TimePoint now) {
  if (!record) return SingleUseOutcome::kUnknown;
  if (record->revoked) return SingleUseOutcome::kRevoked;
  if (record->used) return SingleUseOutcome::kAlreadyUsed;
  if (now >= record->expires_at) return SingleUseOutcome::kExpired;
  return SingleUseOutcome::kAccept;
}

Status SingleUseStatus(SingleUseOutcome outcome, std::string_view what) {
  std::string subject(what);
  switch (outcome) {
    case SingleUseOutcome::kAccept:
      return Status::Ok();
    case SingleUseOutcome::kAlreadyUsed:
      return Status::FailedPrecondition(subject + " has already been used");
    case SingleUseOutcome::kRevoked:
      return Status::FailedPrecondition(subject + " was revoked");
    case SingleUseOutcome::kExpired:
      return Status::FailedPrecondition(subject + " has expired");
    case SingleUseOutcome::kUnknown:
      return Status::NotFound(subject + " not found");
  }
  WEFT_CHECK_MSG(false, "unknown SingleUseOutcome");
  return Status::Internal("unreachable");
}

}  // namespace weft::auth
