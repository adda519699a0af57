#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "proto/message.h"

namespace weft::server {

class DocumentModel;
// Loads a model of one kind from a snapshot (or empty). kCorruption if it
// does not load.
using ModelLoader = Result<std::unique_ptr<DocumentModel>> (*)(
    std::optional<std::string_view> snapshot);

// The CRDT state of one loaded document, as the hub needs it. The engine
// (src/core) stands behind it; tests may use a simpler model.
// Not thread-safe: the hub calls it under the document's lock.
class DocumentModel {
 public:
  virtual ~DocumentModel() = default;

  // The next local seq the model expects from `client_id` (0 if none seen).
  virtual std::uint64_t NextSeq(std::uint64_t client_id) const = 0;

  // Applies one change: its update must decode and hold exactly the ids
  // (client_id, first_seq) .. (client_id, first_seq + span - 1), all of
  // them new, with every dependency already present. Returns
  // kInvalidArgument or kCorruption otherwise; after an error the model may
  // be partly changed and the caller must discard it.
  virtual Status Apply(const proto::Change& change) = 0;
  // How many steps Apply and CheckRetry let one text update take placing
  // its inserts among concurrent ones (core::TextDocLimits): a hostile
  // change of 80,000 one-character inserts held the document for 52 s;
  // 2^24 steps take about 0.2 s, far more than any edit people make.
  static constexpr std::uint64_t kMaxClientScanSteps = std::uint64_t{1} << 24;
  // Applies a change that is already durable (replaying the log), as
  // Apply but without the limits only a new change from a client must
  // keep (a log written before a limit existed still loads).
  virtual Status ApplyDurable(const proto::Change& change) {
    return Apply(change);
  }

  // Checks a change whose ids the model already holds (a retry): its
  // update must decode and hold nothing the model lacks — an exact retry
  // changes nothing. kInvalidArgument or kCorruption otherwise (bytes
  // that do not decode, operations of other ids); after an error the
  // model may be partly changed and the caller must discard it, as after
  // Apply.
  virtual Status CheckRetry(const proto::Change& change) = 0;

  // The engine's snapshot of everything applied.
  virtual std::string EncodeSnapshot() const = 0;

  // The document's content as JSON text (for GET .../content).
  virtual std::string ContentJson() const = 0;

  // How to load another model of this one's kind, without asking the
  // store what kind the document is (DocumentModelFactory may): the hub
  // rebuilds and snapshots on threads that must not wait on the store.
  virtual ModelLoader Loader() const = 0;
};

class DocumentModelFactory {
 public:
  virtual ~DocumentModelFactory() = default;
  // A model from a snapshot (or empty). kCorruption if it does not load.
  virtual Result<std::unique_ptr<DocumentModel>> Load(
      const std::string& doc, std::optional<std::string_view> snapshot) = 0;
};

}  // namespace weft::server
