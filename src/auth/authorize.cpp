#include "auth/authorize.h"

#include <string>

namespace weft::auth {

Status Authorize(const RouteRequirement& need,
                 const std::optional<Principal>& principal,
                 std::optional<Role> membership) {
  if (need.audience == Audience::kAnyone) return Status::Ok();
  if (!principal.has_value() || principal->user_id.empty()) {
    return Status::Unauthenticated("sign in to do this");
  }
  if (need.audience == Audience::kSignedIn) return Status::Ok();
  if (!membership.has_value()) {
    return Status::NotFound("workspace not found");
  }
  if (!Allows(*membership, need.min_role)) {
    return Status::PermissionDenied(
        "this needs the " + std::string(RoleName(need.min_role)) +
        " role; you are " + std::string(RoleName(*membership)));
  }
  return Status::Ok();
}

}  // namespace weft::auth
