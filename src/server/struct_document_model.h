#pragma once

#include <memory>

#include "core/doc.h"
#include "server/document_model.h"

namespace weft::server {

// The DocumentModel of boards and canvases: the engine's Doc (maps, lists
// and texts, nested). A change's ids count the client's operations over
// every part of the document (core::Doc::OpCount); a change applies only
// when it advances exactly its own client's count from first_seq to
// first_seq + span and nothing of it waits for missing operations.
class StructDocumentModel : public DocumentModel {
 public:
  explicit StructDocumentModel(std::unique_ptr<core::Doc> doc)
      : doc_(std::move(doc)) {}

  std::uint64_t NextSeq(std::uint64_t client_id) const override;
  Status Apply(const proto::Change& change) override;
  Status ApplyDurable(const proto::Change& change) override;
  Status CheckRetry(const proto::Change& change) override;
  std::string EncodeSnapshot() const override;
  // The engine's deterministic JSON of the document: root maps and lists
  // as "map:NAME" / "list:NAME", texts as strings.
  std::string ContentJson() const override;
  ModelLoader Loader() const override { return &Load; }

  // A board or canvas model from a snapshot, or empty; the server's
  // replica is client 0.
  static Result<std::unique_ptr<DocumentModel>> Load(
      std::optional<std::string_view> snapshot);

 private:
  // Applies `update`, refusing one that leaves operations waiting for
  // dependencies the model lacks.
  Status ApplyComplete(std::string_view update);
  // Apply; `from_client`: with the limits a new change must keep.
  Status ApplyChange(const proto::Change& change, bool from_client);
  std::unique_ptr<core::Doc> doc_;
};

}  // namespace weft::server
