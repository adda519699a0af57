#pragma once

// Doc: a weft document, a set of named root containers — maps and lists
// (StructDoc) and texts (TextDoc) — where map and list values can create
// nested maps, lists and texts (a map of shapes, each a map with x/y/w/h,
// fill and a text). One replica = one client id used by every part.
//
// Sync is bytes in, bytes out over all parts at once (docs/format.md,
// kinds 6-8): the state vector lists the structure's and each text's state
// vector; a diff holds the structure's missing operations and each text's;
// text updates for a nested text whose creating operation has not arrived
// yet wait until it does. Snapshots are canonical (texts sorted by
// container), so converged replicas encode identical bytes.
//
// Not thread-safe.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "core/struct_doc.h"
#include "core/text_doc.h"

namespace weft::core {

class Doc {
 public:
  explicit Doc(uint64_t client_id);
  // Its texts' listeners point at it.
  Doc(const Doc&) = delete;
  Doc& operator=(const Doc&) = delete;

  uint64_t client_id() const { return client_; }
  // Maps and lists (edit them directly; see StructDoc).
  StructDoc& structure() { return *structure_; }
  const StructDoc& structure() const { return *structure_; }
  // The text of a root text (`ContainerRef{true, kText, name}`) or of a
  // nested text created by a kText value. kNotFound if a nested text does
  // not exist (yet).
  Result<TextDoc*> Text(const ContainerRef& text);
  // TextDocLimits::max_scan_steps of every text, now and later.
  void set_max_text_scan_steps(uint64_t steps);
  // The whole document as JSON, texts as strings.
  std::string ToJson() const;

  std::string EncodeStateVector() const;
  // How many operations of `client` the document holds, over the structure
  // and every text. Each local edit adds to exactly one part, so this count
  // is dense per client: a sync change's ids are (client, OpCount before)
  // .. (client, OpCount after - 1).
  // One lookup (Doc keeps the texts' totals), not a visit of every text.
  uint64_t OpCount(uint64_t client) const;
  // OpCount of every client that has operations here.
  std::map<uint64_t, uint64_t> OpCounts() const;
  // The sum of OpCounts(), kept like OpCount.
  uint64_t TotalOpCount() const;
  // kCorruption if `state_vector` does not decode.
  Result<std::string> EncodeDiff(std::string_view state_vector) const;
  // What a replica's local edits need, at a cost that grows neither with
  // the number of clients the document has had nor with its texts (only
  // with the texts `client` has written to): the state vector of
  // `client` alone (a kind-7 message with only its entries), and the
  // update of the operations of `client` that `state_vector` lacks (other
  // clients' entries are ignored). After local edits,
  // EncodeClientDiff(client_id(), EncodeClientStateVector(client_id())
  // before) is the same bytes as EncodeDiff(EncodeStateVector() before).
  std::string EncodeClientStateVector(uint64_t client) const;
  Result<std::string> EncodeClientDiff(uint64_t client,
                                       std::string_view state_vector) const;
  // Idempotent, any order. kCorruption on bad bytes (parts applied before
  // the bad one stay applied); text updates for texts whose creating
  // operation is missing wait (pending_texts()). With `changes`, appends
  // what changed visibly, for UI events: the map keys and list items of
  // StructDoc::ApplyUpdate, and an entry (empty key, no item) for a text
  // that gained operations.
  Status ApplyUpdate(std::string_view update,
                     std::vector<StructChange>* changes = nullptr);
  std::string EncodeSnapshot() const;
  static Result<std::unique_ptr<Doc>> LoadSnapshot(std::string_view snapshot,
                                                   uint64_t client_id);
  size_t pending_texts() const { return pending_.size(); }

 private:
  struct DocStateVector {
    StateVector structure;
    std::map<ContainerRef, StateVector> texts;
  };
  static Result<DocStateVector> DecodeDocStateVector(std::string_view bytes);
  using Texts = std::map<ContainerRef, std::unique_ptr<TextDoc>>;
  // Per client, over every text: its operations, and the texts it has
  // operations in, ordered like texts_ when read (map iterators stay
  // valid: texts are never removed). Kept by each text's OpsListener.
  struct ClientTexts {
    uint64_t ops = 0;
    std::vector<Texts::const_iterator> texts;
    bool unsorted = false;  // texts gained out of order since last read
  };
  static bool ByRef(Texts::const_iterator a, Texts::const_iterator b);
  Status ApplyText(const ContainerRef& ref, const std::string& update,
                   std::vector<StructChange>* changes);
  Status RetryPending(std::vector<StructChange>* changes);
  // Sets the listener of a text just added to texts_, after counting the
  // operations it already holds.
  void Attach(Texts::iterator it);
  void CountTextOps(Texts::const_iterator it, uint64_t client, uint64_t n,
                    bool first);
  // The texts `client` has operations in, in texts_ order.
  const std::vector<Texts::const_iterator>& TextsOf(uint64_t client) const;

  uint64_t client_;
  uint64_t text_scan_steps_ = 0;
  std::unique_ptr<StructDoc> structure_;
  Texts texts_;
  std::vector<std::pair<ContainerRef, std::string>> pending_;
  // Mutable: TextsOf sorts a client's list on first read after it grew out
  // of order.
  mutable std::unordered_map<uint64_t, ClientTexts> by_client_;
  uint64_t text_ops_ = 0;  // every text's TotalOpCount, summed
};

}  // namespace weft::core
