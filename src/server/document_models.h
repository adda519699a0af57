#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/document_model.h"

namespace weft::server {

// The models of every document kind: "text" documents load as the engine's
// TextDoc, "board" and "canvas" documents as its Doc (maps, lists and
// texts). `kind_of` names a document's kind (from the document's metadata);
// when it fails, loading fails with its status, so a document is never
// loaded as the wrong kind. The server never edits, so its replicas use
// client id 0, which clients must not use.
class DocumentModels : public DocumentModelFactory {
 public:
  using KindOf = std::function<Result<std::string>(const std::string& doc)>;
  // Without `kind_of`, every document is text.
  explicit DocumentModels(KindOf kind_of = {}) : kind_of_(std::move(kind_of)) {}

  Result<std::unique_ptr<DocumentModel>> Load(
      const std::string& doc,
      std::optional<std::string_view> snapshot) override;

  // A model of `kind` ("text", "board" or "canvas"); kInvalidArgument for
  // another kind, kCorruption when the snapshot does not load.
  static Result<std::unique_ptr<DocumentModel>> LoadKind(
      std::string_view kind, std::optional<std::string_view> snapshot);

 private:
  KindOf kind_of_;
};

}  // namespace weft::server
