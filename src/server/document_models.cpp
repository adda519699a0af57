#include "server/document_models.h"

#include "core/doc.h"
#include "core/text_doc.h"
#include "server/struct_document_model.h"
#include "server/text_document_model.h"

namespace weft::server {

Result<std::unique_ptr<DocumentModel>> DocumentModels::Load(
    const std::string& doc, std::optional<std::string_view> snapshot) {
  if (!kind_of_) return LoadKind("text", snapshot);
  auto kind = kind_of_(doc);
  if (!kind.ok()) return kind.status();
  return LoadKind(*kind, snapshot);
}

Result<std::unique_ptr<DocumentModel>> DocumentModels::LoadKind(
    std::string_view kind, std::optional<std::string_view> snapshot) {
  if (kind == "text") return TextDocumentModel::Load(snapshot);
  if (kind == "board" || kind == "canvas") {
    return StructDocumentModel::Load(snapshot);
  }
  return Status::InvalidArgument("unknown document kind: " + std::string(kind));
}

}  // namespace weft::server
