#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "server/document_model.h"

namespace weft::server {

// A model M holding an engine document E (TextDoc or Doc), from a snapshot
// or empty; the server's replica is client 0. The body of each model's
// static Load.
template <typename M, typename E>
Result<std::unique_ptr<DocumentModel>> LoadModelAs(
    std::optional<std::string_view> snapshot) {
  if (!snapshot) {
    return std::unique_ptr<DocumentModel>(new M(std::make_unique<E>(0)));
  }
  auto doc = E::LoadSnapshot(*snapshot, 0);
  if (!doc.ok()) return doc.status();
  return std::unique_ptr<DocumentModel>(new M(std::move(*doc)));
}

}  // namespace weft::server
