#include "store/metadata.h"

#include "common/fnv1a.h"

namespace weft::store {

namespace {
constexpr std::uint64_t kVersionMask = (std::uint64_t{1} << 53) - 1;
}  // namespace

std::int64_t TokenVersion(const User& user) {
  if (user.token_version != 0) return user.token_version;
  return static_cast<std::int64_t>(Fnv1a(user.password_hash) & kVersionMask);
}

std::int64_t NextTokenVersion(const User& user, std::string_view new_hash) {
  std::uint64_t v = Fnv1a(new_hash) & kVersionMask;
  while (v == 0 || static_cast<std::int64_t>(v) == TokenVersion(user)) {
    v = (v + 1) & kVersionMask;
  }
  return static_cast<std::int64_t>(v);
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOwner:
      return "owner";
    case Role::kEditor:
      return "editor";
    case Role::kViewer:
      return "viewer";
  }
  return "viewer";
}

Result<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kOwner, Role::kEditor, Role::kViewer}) {
    if (RoleName(r) == name) return r;
  }
  return Status::Corruption("unknown role \"" + std::string(name) + "\"");
}

std::string_view DocumentKindName(DocumentKind kind) {
  switch (kind) {
    case DocumentKind::kText:
      return "text";
    case DocumentKind::kBoard:
      return "board";
    case DocumentKind::kCanvas:
      return "canvas";
  }
  return "text";
}

Result<DocumentKind> ParseDocumentKind(std::string_view name) {
  for (DocumentKind k :
       {DocumentKind::kText, DocumentKind::kBoard, DocumentKind::kCanvas}) {
    if (DocumentKindName(k) == name) return k;
  }
  return Status::Corruption("unknown document kind \"" + std::string(name) +
                            "\"");
}

}  // namespace weft::store
