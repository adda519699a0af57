#pragma once

#include <optional>
#include <string>

#include "auth/role.h"
#include "common/status.h"

namespace weft::auth {

// The one authorisation check. Every HTTP route declares a RouteRequirement;
// the HTTP layer authenticates the request (a verified access token gives a
// Principal), looks up the principal's membership in the workspace the
// route addresses (only when the requirement needs it), and calls
// Authorize(). Routes never compare roles themselves.

// Who is asking, as established from a verified access token.
struct Principal {
  std::string user_id;
  std::string session_id;  // the refresh-token family; "" when none
};

// Who may call a route.
enum class Audience {
  kAnyone,           // no credentials needed (login, register, openapi)
  kSignedIn,         // any authenticated user (/me, create workspace)
  kWorkspaceMember,  // a member of the addressed workspace with min_role
};

struct RouteRequirement {
  Audience audience = Audience::kSignedIn;
  // Only for kWorkspaceMember: the least role that may call the route.
  Role min_role = Role::kViewer;

  static RouteRequirement Anyone() { return {Audience::kAnyone}; }
  static RouteRequirement SignedIn() { return {Audience::kSignedIn}; }
  static RouteRequirement Member(Role min_role) {
    return {Audience::kWorkspaceMember, min_role};
  }
  // Whether the HTTP layer must look up a membership before Authorize().
  bool NeedsMembership() const {
    return audience == Audience::kWorkspaceMember;
  }
};

// Decides whether `principal` (nullopt = anonymous) may call a route with
// requirement `need`. `membership` is the principal's role in the addressed
// workspace, nullopt when they are not a member *or the workspace (or
// document) does not exist or is deleted*; it is ignored unless
// need.NeedsMembership(). Returns:
//   Ok                when allowed;
//   Unauthenticated   when a principal is needed and there is none (401);
//   NotFound          when the principal is not a member: the same answer
//                     as for a workspace that does not exist, so that
//                     non-members cannot probe for ids (404);
//   PermissionDenied  when a member's role is below need.min_role (403).
// Pure; thread-safe.
Status Authorize(const RouteRequirement& need,
                 const std::optional<Principal>& principal,
                 std::optional<Role> membership);

}  // namespace weft::auth
