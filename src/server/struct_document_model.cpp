#include "server/struct_document_model.h"

#include <utility>

#include "server/change_ids.h"
#include "server/load_model_as.h"

namespace weft::server {

Result<std::unique_ptr<DocumentModel>> StructDocumentModel::Load(
    std::optional<std::string_view> snapshot) {
  return LoadModelAs<StructDocumentModel, core::Doc>(snapshot);
}

std::uint64_t StructDocumentModel::NextSeq(std::uint64_t client_id) const {
  return doc_->OpCount(client_id);
}

Status StructDocumentModel::Apply(const proto::Change& change) {
  if (change.client_id == 0) {
    return Status::InvalidArgument("client id 0 is reserved for the server");
  }
  auto client_and_total = [&] {
    return std::pair{doc_->OpCount(change.client_id), doc_->TotalOpCount()};
  };
  auto [client_before, total_before] = client_and_total();
  WEFT_RETURN_IF_ERROR(ApplyComplete(change.update));
  auto [client_after, total_after] = client_and_total();
  return CheckChangeIds(client_before, client_after, total_after - total_before,
                        change);
}

Status StructDocumentModel::CheckRetry(const proto::Change& change) {
  const std::uint64_t total_before = doc_->TotalOpCount();
  WEFT_RETURN_IF_ERROR(ApplyComplete(change.update));
  return CheckNothingNew(total_before, doc_->TotalOpCount());
}

Status StructDocumentModel::ApplyComplete(std::string_view update) {
  WEFT_RETURN_IF_ERROR(doc_->ApplyUpdate(update));
  if (doc_->pending_texts() != 0 || doc_->structure().pending_ops() != 0) {
    return DependsOnMissing();
  }
  return Status::Ok();
}

std::string StructDocumentModel::EncodeSnapshot() const {
  return doc_->EncodeSnapshot();
}

std::string StructDocumentModel::ContentJson() const { return doc_->ToJson(); }

}  // namespace weft::server
