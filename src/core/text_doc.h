#pragma once

// TextDoc: a collaborative plain-text document, the CRDT at the heart of
// weft (design in docs/design-engine.md, bytes in docs/format.md).
//
// Every edit is an operation with a stable id (client id, local seq); one
// code point inserted or deleted takes one seq. An insert names its causal
// parents as its left and right origins (the neighbours it was typed
// between), a delete names the ids it removes; together with the previous
// seq of the same client these are its dependencies. Concurrent inserts at
// one place are ordered by the FugueMax/YjsMod rule (no interleaving), ties
// broken by client id, so every replica that has seen the same operations
// holds the same text and encodes the same snapshot bytes.
//
// Applying an update is idempotent; operations whose dependencies are
// missing wait in a pending queue and are applied once they arrive.
// Positions are Unicode code points (see core/utf.h for UTF-16).
//
// Not thread-safe: confine a TextDoc to one thread or strand.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/content_tree.h"
#include "core/utf8_text.h"

namespace weft::core {

// client id -> number of operations seen from it (its next seq).
using StateVector = std::map<uint64_t, uint32_t>;
// The state vector of `client` alone, holding `n` operations (empty for 0).
inline StateVector SingleClientStateVector(uint64_t client, uint64_t n) {
  if (n == 0) return {};
  return {{client, static_cast<uint32_t>(n)}};
}

std::string EncodeStateVector(const StateVector& sv);
// kCorruption on malformed bytes or clients listed out of order.
Result<StateVector> DecodeStateVector(std::string_view bytes);

// One visible change made by ApplyUpdate, for UI events. Positions are
// code points in the text as it is after the previous changes of the list.
struct TextChange {
  uint64_t pos = 0;
  uint64_t deleted = 0;  // code points removed at pos
  std::string inserted;  // UTF-8 inserted at pos
  friend bool operator==(const TextChange&, const TextChange&) = default;
};

// A position tied to a character rather than to an offset (presence
// cursors): just before the character (client, seq), or just after it
// (`after`, for the end of the text), or the end of an empty text (`end`).
struct TextAnchor {
  uint64_t client = 0;
  uint32_t seq = 0;
  bool after = false;
  bool end = false;
  friend bool operator==(const TextAnchor&, const TextAnchor&) = default;
};

// Limits that keep hostile updates from exhausting memory.
struct TextDocLimits {
  // Operations held while waiting for their dependencies (counted in runs).
  size_t max_pending_runs = 1 << 16;
  // Steps one ApplyUpdate may take placing inserts among the concurrent
  // ones at their place (0: no limit); past it, kResourceExhausted (the
  // runs placed before stay). For updates from untrusted peers: one
  // client's N one-character runs, all at the start and each placed after
  // all before it, take N^2 / 2 steps (80,000 in a 1 MB update: 52 s).
  uint64_t max_scan_steps = 0;
};

class TextDoc {
 public:
  // `client_id` names this replica's edits; it must be unique among the
  // replicas of the document (the caller draws it at random).
  explicit TextDoc(uint64_t client_id, TextDocLimits limits = {});
  TextDoc(const TextDoc&) = delete;
  TextDoc& operator=(const TextDoc&) = delete;

  uint64_t client_id() const { return agents_[my_agent_].client; }
  // Visible length in code points.
  uint64_t length() const { return tree_.visible_len(); }
  // The visible text, UTF-8.
  std::string Text() const;

  // Local edits. kInvalidArgument if the position or length is out of range
  // or `utf8` is not valid UTF-8; the document is then unchanged.
  Status Insert(uint64_t pos, std::string_view utf8);
  Status Delete(uint64_t pos, uint64_t len);

  // The anchor of position `pos`: before the character at pos; at the end
  // of the text, after the last character (so text appended by others goes
  // after the position, as it does in an editor); `end` in an empty text.
  // kInvalidArgument if pos > length().
  Result<TextAnchor> AnchorAt(uint64_t pos);
  // Where `anchor` is now in code points: the visible characters before
  // its character, plus that character for `after` (if deleted, where it
  // was). nullopt if this replica does not hold that character.
  std::optional<uint64_t> ResolveAnchor(const TextAnchor& anchor) const;

  StateVector GetStateVector() const;
  std::string EncodeStateVector() const;
  // Operations of `client` held (its entry of the state vector, 0 for
  // none) and of all clients together, without building the state vector.
  uint64_t OpCount(uint64_t client) const;
  uint64_t TotalOpCount() const;
  // Told of the operations a client gains here from now on, local or
  // remote, in the order they are recorded: `n` operations of `client`,
  // `first` when they are its first in this text. For a holder of many
  // texts (Doc) that keeps per-client totals without visiting each text.
  // One listener; an empty one removes it. Doc sets it on each of its
  // texts: replacing it on a text a Doc handed out breaks the Doc's counts.
  using OpsListener =
      std::function<void(uint64_t client, uint64_t n, bool first)>;
  void SetOpsListener(OpsListener listener) {
    ops_listener_ = std::move(listener);
  }

  // The update holding every operation this document has and a peer at
  // `have` lacks; with `upto`, only operations below it (which must be
  // a causally closed version, e.g. another replica's state vector).
  std::string EncodeDiff(const StateVector& have) const;
  std::string EncodeDiff(const StateVector& have,
                         const StateVector& upto) const;
  // The update holding the operations of `client` from seq `from` on. After
  // local edits, EncodeClientDiff(client_id(), OpCount(client_id()) before)
  // is the same bytes as EncodeDiff(GetStateVector() before), but it costs
  // what it holds instead of the number of clients the document has had.
  std::string EncodeClientDiff(uint64_t client, uint32_t from) const;
  // Same, with `have` as encoded state vector bytes (kCorruption if bad).
  Result<std::string> EncodeDiffBytes(std::string_view state_vector) const;
  // The pair in bytes, as Doc has it: the state vector of `client` alone,
  // and EncodeClientDiff from that client's entry in `state_vector` (other
  // entries are ignored; kCorruption if it does not decode).
  std::string EncodeClientStateVector(uint64_t client) const;
  Result<std::string> EncodeClientDiffBytes(
      uint64_t client, std::string_view state_vector) const;

  // Applies an update (any order, duplicates allowed). Returns the visible
  // changes. kCorruption if the bytes do not decode or name ids that do not
  // exist; operations applied before the bad one stay applied (each one is
  // valid on its own). kResourceExhausted if the pending queue is full.
  Result<std::vector<TextChange>> ApplyUpdate(std::string_view update,
                                              bool report_changes = true);

  // The whole document in a canonical form: replicas holding the same
  // operations produce identical bytes. Deleted text is not kept.
  std::string EncodeSnapshot() const;
  // What LoadSnapshot keeps besides the document. kText: the snapshot's
  // visible text (it is in document order), which Text() returns without
  // walking the tree until the first operation; it costs one byte per
  // byte of text until then. For a replica that shows the text as soon as
  // it has loaded it (the WebAssembly build).
  enum class LoadKeep : uint8_t { kNothing, kText };
  // kCorruption on malformed or inconsistent bytes; never crashes.
  static Result<std::unique_ptr<TextDoc>> LoadSnapshot(
      std::string_view snapshot, uint64_t client_id, TextDocLimits limits = {},
      LoadKeep keep = LoadKeep::kNothing);

  // The visible text of a snapshot, after the checks of its header and
  // text that LoadSnapshot makes (for a version 1 snapshot, where the spans
  // come first, of its spans too), without building the document: for a
  // replica that shows a document before it edits it. LoadSnapshot may
  // still find the rest inconsistent (spans, delete runs, ids that do not
  // tile each client's operations); every snapshot it loads peeks to the
  // same text.
  struct PeekedText {
    std::string utf8;
    uint64_t length = 0;  // code points
  };
  static Result<PeekedText> PeekSnapshotText(std::string_view snapshot);

  size_t pending_runs() const { return pending_.size(); }
  void set_max_scan_steps(uint64_t steps) { limits_.max_scan_steps = steps; }
  // Approximate heap bytes held (tree, id index, gap logs, inserted text).
  size_t MemoryBytes() const;
  // Spans and op runs in a human-readable form; for debugging tests.
  std::string DebugString() const;
  // Checks the tree, the id index, the gap logs and the text against each
  // other; for tests.
  Status CheckInvariants() const;

 private:
  enum class OpKind : uint8_t { kInsert = 0, kDelete = 1 };
  static constexpr uint32_t kElided = UINT32_MAX;

  // A run of consecutive operations of one agent, as decoded from an
  // update (and while pending).
  struct OpRun {
    uint32_t seq;
    uint32_t len;
    OpKind kind;
    bool reversed;     // delete: seq + i removes a.seq - i (else a.seq + i)
    uint32_t content;  // insert: kElided if it carries no text
    Id a;              // insert: left origin; delete: first target
    Id b;              // insert: right origin
  };
  // A run of consecutive seqs of one agent that carry no text: a delete, or
  // an insert that arrived already deleted (kInsert). Inserts with text are
  // not logged: the tree's spans hold their origins (found through the id
  // index) and Agent::text their text. 24 bytes.
  struct GapRun {
    uint32_t seq;
    uint32_t len;
    uint32_t gaps_through;  // seqs in this agent's gaps up to this run's end
    OpKind kind;
    bool reversed;  // delete: seq + i removes a.seq - i (else a.seq + i)
    Id a;           // delete: first target
  };
  struct Agent {
    uint64_t client;
    uint32_t next_seq = 0;
    // The text of every insert that carries text, in seq order: seq s is
    // at s minus the gap seqs before s.
    Utf8Text text;
    std::vector<GapRun> gaps;  // sorted by seq, disjoint, below next_seq
  };
  struct PendingRun {
    uint32_t agent;
    OpRun run;
    std::string content;  // insert: UTF-8, run.len code points
  };
  enum class ApplyState { kApplied, kDuplicate, kNotReady };
  class SnapshotLoader;  // LoadSnapshot's steps (text_doc.cpp)

  uint32_t AgentFor(uint64_t client);
  // The gap run holding `seq` or the last one before it; nullptr if none.
  static const GapRun* GapAtOrBefore(const Agent& ag, uint32_t seq);
  // Offset in Agent::text of `seq`, an insert that carries text.
  static uint32_t TextOffset(const Agent& ag, uint32_t seq);
  void AppendContent(uint32_t agent, uint32_t seq, uint32_t len,
                     std::string* out) const;
  std::string TreeText() const;  // the visible text, walking the tree
  bool Known(Id id) const;
  int CompareIds(Id a, Id b) const;
  // `content` (valid UTF-8 of `len` code points) is absent for inserts that
  // arrive deleted.
  void RecordInsert(uint32_t agent, uint32_t seq, uint32_t len,
                    const std::string_view* content);
  void RecordDelete(uint32_t agent, uint32_t seq, OpRun run);
  void DropLoadedText();  // before any operation changes the document
  // Advances `ag` to `next_seq` (its ops are dense), keeping total_ops_
  // and telling the listener.
  void CountOps(Agent& ag, uint32_t next_seq);
  // The gap log's part of RecordInsert (`content` absent) and RecordDelete:
  // appends the run, or grows the last one when it continues it.
  static void LogElided(std::vector<GapRun>* gaps, uint32_t seq, uint32_t len);
  static void LogDelete(std::vector<GapRun>* gaps, uint32_t seq, uint32_t len,
                        bool reversed, Id target);
  Result<ApplyState> TryApply(PendingRun* p, std::vector<TextChange>* changes);
  // What TryApply found missing for `p` (kNotReady): an id this replica
  // lacks, known once its agent's next_seq passes its seq.
  Id Awaits(const PendingRun& p) const;
  // Drops the agents from index `keep` on (made by one ApplyUpdate) that
  // hold no operation and that no waiting run names: a refused update, or
  // a retry, whose runs name clients that never wrote, keeps nothing.
  void DropNewUnusedAgents(size_t keep);
  Status IntegrateInsert(uint32_t agent, const OpRun& run,
                         const std::string& content,
                         std::vector<TextChange>* changes);
  Status ApplyRemoteDelete(uint32_t agent, const OpRun& run,
                           std::vector<TextChange>* changes);
  // An update's client table: the clients its runs name (text_doc.cpp).
  struct UpdateTable;
  // Seqs [from, to) of one agent, for an update.
  struct DiffRange {
    uint32_t agent, from, to;
  };
  // The update of `ranges` (ascending client, one per agent).
  std::string EncodeRanges(const std::vector<DiffRange>& ranges) const;
  // Appends to `out` the update runs of seqs [from, to) of `agent`, and
  // counts them in *count.
  void EncodeGap(uint32_t agent, const GapRun& gap, uint32_t from, uint32_t to,
                 UpdateTable* table, uint32_t* count, std::string* out) const;
  void EncodeInserts(uint32_t agent, uint32_t from, uint32_t to, bool text,
                     UpdateTable* table, uint32_t* count,
                     std::string* out) const;

  TextDocLimits limits_;
  uint64_t scan_left_ = 0;  // of limits_.max_scan_steps, in ApplyUpdate
  uint32_t my_agent_ = 0;
  std::vector<Agent> agents_;
  std::map<uint64_t, uint32_t> agent_of_;
  ContentTree tree_;
  std::vector<PendingRun> pending_;
  uint64_t total_ops_ = 0;  // the sum of every agent's next_seq
  OpsListener ops_listener_;
  // The visible text as LoadSnapshot read it (LoadKeep::kText), so that
  // Text() right after a load is a copy rather than a walk of the tree;
  // dropped by the first operation (RecordInsert, RecordDelete).
  std::string loaded_text_;
  bool has_loaded_text_ = false;
};

}  // namespace weft::core
