#pragma once

#include <memory>

#include "core/text_doc.h"
#include "server/document_model.h"

namespace weft::server {

// The DocumentModel of text documents: the engine's TextDoc. A change
// applies only when its update holds exactly the ids it claims — the
// client's state advances from first_seq to first_seq + span, no other
// client's does, and nothing waits for missing dependencies.
class TextDocumentModel : public DocumentModel {
 public:
  explicit TextDocumentModel(std::unique_ptr<core::TextDoc> doc)
      : doc_(std::move(doc)) {}

  std::uint64_t NextSeq(std::uint64_t client_id) const override;
  Status Apply(const proto::Change& change) override;
  Status ApplyDurable(const proto::Change& change) override;
  Status CheckRetry(const proto::Change& change) override;
  std::string EncodeSnapshot() const override;
  // {"text": "..."}
  std::string ContentJson() const override;
  ModelLoader Loader() const override { return &Load; }

  // A text model from a snapshot, or empty; the server's replica is
  // client 0.
  static Result<std::unique_ptr<DocumentModel>> Load(
      std::optional<std::string_view> snapshot);

 private:
  // Applies `update`, refusing one that leaves operations waiting for
  // dependencies the model lacks.
  Status ApplyComplete(std::string_view update);
  Status ApplyChange(const proto::Change& change);
  std::unique_ptr<core::TextDoc> doc_;
};

}  // namespace weft::server
