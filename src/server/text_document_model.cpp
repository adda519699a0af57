#include "server/text_document_model.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "server/change_ids.h"
#include "server/load_model_as.h"

namespace weft::server {

Result<std::unique_ptr<DocumentModel>> TextDocumentModel::Load(
    std::optional<std::string_view> snapshot) {
  return LoadModelAs<TextDocumentModel, core::TextDoc>(snapshot);
}

std::uint64_t TextDocumentModel::NextSeq(std::uint64_t client_id) const {
  return doc_->OpCount(client_id);
}

Status TextDocumentModel::Apply(const proto::Change& change) {
  doc_->set_max_scan_steps(kMaxClientScanSteps);
  return ApplyChange(change);
}

Status TextDocumentModel::ApplyDurable(const proto::Change& change) {
  doc_->set_max_scan_steps(0);
  return ApplyChange(change);
}

Status TextDocumentModel::ApplyChange(const proto::Change& change) {
  if (change.client_id == 0) {
    return Status::InvalidArgument("client id 0 is reserved for the server");
  }
  std::uint64_t client_before = doc_->OpCount(change.client_id);
  std::uint64_t total_before = doc_->TotalOpCount();
  WEFT_RETURN_IF_ERROR(ApplyComplete(change.update));
  return CheckChangeIds(client_before, doc_->OpCount(change.client_id),
                        doc_->TotalOpCount() - total_before, change);
}

Status TextDocumentModel::CheckRetry(const proto::Change& change) {
  doc_->set_max_scan_steps(kMaxClientScanSteps);
  const std::uint64_t total_before = doc_->TotalOpCount();
  WEFT_RETURN_IF_ERROR(ApplyComplete(change.update));
  return CheckNothingNew(total_before, doc_->TotalOpCount());
}

Status TextDocumentModel::ApplyComplete(std::string_view update) {
  auto applied = doc_->ApplyUpdate(update, /*report_changes=*/false);
  if (!applied.ok()) return applied.status();
  if (doc_->pending_runs() != 0) return DependsOnMissing();
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

}  // namespace weft::server
