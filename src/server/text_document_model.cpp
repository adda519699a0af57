#include "server/text_document_model.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace weft::server {

std::uint64_t TextDocumentModel::NextSeq(std::uint64_t client_id) const {
  auto sv = doc_->GetStateVector();
  auto it = sv.find(client_id);
  return it == sv.end() ? 0 : it->second;
}

Status TextDocumentModel::Apply(const proto::Change& change) {
  if (change.client_id == 0) {
    return Status::InvalidArgument("client id 0 is reserved for the server");
  }
  auto before = doc_->GetStateVector();
  auto applied = doc_->ApplyUpdate(change.update, /*report_changes=*/false);
  if (!applied.ok()) return applied.status();
  if (doc_->pending_runs() != 0) {
    return Status::InvalidArgument(
        "the update depends on operations the "
        "server does not have");
  }
  auto after = doc_->GetStateVector();
  for (const auto& [client, next] : after) {
    auto was = before.find(client);
    std::uint64_t prev = was == before.end() ? 0 : was->second;
    if (client == change.client_id) {
      if (prev != change.first_seq || next != change.first_seq + change.span) {
        return Status::InvalidArgument(
            "the update does not hold exactly the change's ids");
      }
    } else if (next != prev) {
      return Status::InvalidArgument(
          "the update holds operations of another client");
    }
  }
  if (after.find(change.client_id) == after.end()) {
    return Status::InvalidArgument("the update holds none of the change's ids");
  }
  return Status::Ok();
}

std::string TextDocumentModel::EncodeSnapshot() const {
  return doc_->EncodeSnapshot();
}

std::string TextDocumentModel::ContentJson() const {
  boost::json::object o;
  o["text"] = doc_->Text();
  return boost::json::serialize(o);
}

Result<std::unique_ptr<DocumentModel>> TextDocumentModelFactory::Load(
    const std::string&, std::optional<std::string_view> snapshot) {
  if (!snapshot) {
    return std::unique_ptr<DocumentModel>(
        new TextDocumentModel(std::make_unique<core::TextDoc>(0)));
  }
  auto doc = core::TextDoc::LoadSnapshot(*snapshot, 0);
  if (!doc.ok()) return doc.status();
  return std::unique_ptr<DocumentModel>(new TextDocumentModel(std::move(*doc)));
}

}  // namespace weft::server
