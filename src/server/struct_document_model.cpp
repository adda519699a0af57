#include "server/struct_document_model.h"

#include <utility>

#include "server/change_ids.h"
#include "server/load_model_as.h"

namespace weft::server {

namespace {
constexpr std::uint64_t kLamportSlack = std::uint64_t{1} << 24;
}  // namespace

Result<std::unique_ptr<DocumentModel>> StructDocumentModel::Load(
    std::optional<std::string_view> snapshot) {
  return LoadModelAs<StructDocumentModel, core::Doc>(snapshot);
}

std::uint64_t StructDocumentModel::NextSeq(std::uint64_t client_id) const {
  return doc_->OpCount(client_id);
}

Status StructDocumentModel::Apply(const proto::Change& change) {
  return ApplyChange(change, /*from_client=*/true);
}

Status StructDocumentModel::ApplyDurable(const proto::Change& change) {
  return ApplyChange(change, /*from_client=*/false);
}

Status StructDocumentModel::ApplyChange(const proto::Change& change,
                                        bool from_client) {
  if (change.client_id == 0) {
    return Status::InvalidArgument("client id 0 is reserved for the server");
  }
  auto client_and_total = [&] {
    return std::pair{doc_->OpCount(change.client_id), doc_->TotalOpCount()};
  };
  doc_->set_max_text_scan_steps(from_client ? kMaxClientScanSteps : 0);
  auto [client_before, total_before] = client_and_total();
  const std::uint64_t lamport_before = doc_->structure().lamport();
  const std::uint32_t depth_before = doc_->structure().max_depth();
  const std::uint64_t invalid_before = doc_->structure().invalid_utf8_ops();
  WEFT_RETURN_IF_ERROR(ApplyComplete(change.update));
  auto [client_after, total_after] = client_and_total();
  if (!from_client) {
    return CheckChangeIds(client_before, client_after,
                          total_after - total_before, change);
  }
  // Containers nested deeper than local edits may nest (rendering
  // recurses per level).
  const std::uint32_t depth_after = doc_->structure().max_depth();
  if (depth_after > depth_before && depth_after > core::StructDoc::kMaxDepth) {
    return Status::InvalidArgument("containers nested too deep");
  }
  if (doc_->structure().invalid_utf8_ops() > invalid_before) {
    return Status::InvalidArgument("a name, key or string is not UTF-8");
  }
  // A client's operation is at most one past the clock of everything it
  // saw, which came through here: each new operation moves the clock by
  // at most one. (A margin for clients that saw operations a restore
  // from backup took away.) One operation that jumped to the clock's
  // limit made every later edit of every client invalid.
  if (doc_->structure().lamport() >
      lamport_before + (total_after - total_before) + kLamportSlack) {
    return Status::InvalidArgument(
        "an operation's Lamport clock is far ahead of the document's");
  }
  return CheckChangeIds(client_before, client_after, total_after - total_before,
                        change);
}

Status StructDocumentModel::CheckRetry(const proto::Change& change) {
  doc_->set_max_text_scan_steps(kMaxClientScanSteps);
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
