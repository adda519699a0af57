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

namespace {

// A model of engine type E (TextDoc or Doc) held by M, from a snapshot or
// empty; the server's replica is client 0.
template <typename M, typename E>
Result<std::unique_ptr<DocumentModel>> LoadAs(
    std::optional<std::string_view> snapshot) {
  if (!snapshot) {
    return std::unique_ptr<DocumentModel>(new M(std::make_unique<E>(0)));
  }
  auto doc = E::LoadSnapshot(*snapshot, 0);
  if (!doc.ok()) return doc.status();
  return std::unique_ptr<DocumentModel>(new M(std::move(*doc)));
}

}  // namespace

Result<std::unique_ptr<DocumentModel>> DocumentModels::LoadKind(
    std::string_view kind, std::optional<std::string_view> snapshot) {
  if (kind == "text") return LoadAs<TextDocumentModel, core::TextDoc>(snapshot);
  if (kind == "board" || kind == "canvas") {
    return LoadAs<StructDocumentModel, core::Doc>(snapshot);
  }
  return Status::InvalidArgument("unknown document kind: " + std::string(kind));
}

}  // namespace weft::server
