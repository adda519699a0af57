#include "auth/role.h"

#include "common/check.h"

namespace weft::auth {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kEditor:
      return "editor";
    case Role::kOwner:
      return "owner";
  }
  WEFT_CHECK_MSG(false, "unknown Role");
  return "";
}

std::optional<Role> ParseRole(std::string_view text) {
  for (Role role : {Role::kViewer, Role::kEditor, Role::kOwner}) {
    if (text == RoleName(role)) return role;
  }
  return std::nullopt;
}

namespace {
int Rank(Role role) {
  switch (role) {
    case Role::kViewer:
      return 0;
    case Role::kEditor:
      return 1;
    case Role::kOwner:
      return 2;
  }
  WEFT_CHECK_MSG(false, "unknown Role");
  return -1;
}
}  // namespace

bool Allows(Role have, Role need) { return Rank(have) >= Rank(need); }

}  // namespace weft::auth
