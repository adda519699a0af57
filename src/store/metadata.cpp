#include "store/metadata.h"

namespace weft::store {

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
