#include "server/text_document_model.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace weft::server {

std::uint64_t TextDocumentModel::NextSeq(std::uint64_t client_id) const {
  return doc_->OpCount(client_id);
}

Status TextDocumentModel::Apply(const proto::Change& change) {
  if (change.client_id == 0) {
    return Status::InvalidArgument("client id 0 is reserved for the server");
  }
  // Counts only grow, so "the client's count went from first_seq to
  // first_seq + span and the total grew by span" means no other client's
  // count moved: the check of CheckChangeIds without building two state
  // vectors per submit (they showed in profiles of busy documents).
  std::uint64_t client_before = doc_->OpCount(change.client_id);
  std::uint64_t total_before = doc_->TotalOpCount();
  auto applied = doc_->ApplyUpdate(change.update, /*report_changes=*/false);
  if (!applied.ok()) return applied.status();
  if (doc_->pending_runs() != 0) {
    return Status::InvalidArgument(
        "the update depends on operations the "
        "server does not have");
  }
  std::uint64_t client_after = doc_->OpCount(change.client_id);
  std::uint64_t grown = doc_->TotalOpCount() - total_before;
  if (client_after == client_before) {
    return Status::InvalidArgument("the update holds none of the change's ids");
  }
  if (client_before != change.first_seq ||
      client_after != change.first_seq + change.span) {
    return Status::InvalidArgument(
        "the update does not hold exactly the change's ids");
  }
  if (grown != change.span) {
    return Status::InvalidArgument(
        "the update holds operations of another client");
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
