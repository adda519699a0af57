#pragma once

#include <optional>
#include <string_view>

namespace weft::auth {

// A member's role in a workspace. Each role includes everything the roles
// before it may do:
//   viewer  reads documents, members and the activity feed
//   editor  + writes content, creates, renames, deletes and restores documents
//   owner   + manages the workspace: rename, delete, members, roles,
//             invitations, ownership transfer
// The enumerators are ordered by privilege; code must use Allows() rather
// than comparing them.
enum class Role { kViewer, kEditor, kOwner };

// "viewer", "editor", "owner": the wire and storage spelling (stable).
std::string_view RoleName(Role role);

// The inverse of RoleName. Exact, case-sensitive match; nullopt for
// anything else (including "" and "Owner").
std::optional<Role> ParseRole(std::string_view text);

// Whether a member holding `have` may do what requires `need`.
bool Allows(Role have, Role need);

}  // namespace weft::auth
