#include "server/text_document_model.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "server/change_ids.h"

namespace weft::server {

std::uint64_t TextDocumentModel::NextSeq(std::uint64_t client_id) const {
  return doc_->OpCount(client_id);
}

Status TextDocumentModel::Apply(const proto::Change& change) {
  if (change.client_id == 0) {
    return Status::InvalidArgument("client id 0 is reserved for the server");
  }
  std::uint64_t client_before = doc_->OpCount(change.client_id);
  std::uint64_t total_before = doc_->TotalOpCount();
  auto applied = doc_->ApplyUpdate(change.update, /*report_changes=*/false);
  if (!applied.ok()) return applied.status();
  if (doc_->pending_runs() != 0) {
    return Status::InvalidArgument(
        "the update depends on operations the "
        "server does not have");
  }
  return CheckChangeIds(client_before, doc_->OpCount(change.client_id),
                        doc_->TotalOpCount() - total_before, change);
}

Status TextDocumentModel::CheckRetry(const proto::Change& change) {
  const std::uint64_t total_before = doc_->TotalOpCount();
  auto applied = doc_->ApplyUpdate(change.update, /*report_changes=*/false);
  if (!applied.ok()) return applied.status();
  if (doc_->pending_runs() != 0 || doc_->TotalOpCount() != total_before) {
    return Status::InvalidArgument(
        "a retried change holds operations the document does not have");
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

}  // namespace weft::server
