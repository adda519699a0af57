#pragma once

// The Store interface: the operation log, snapshots and account metadata of
// weft. Three implementations (memory, SQLite, PostgreSQL) pass one
// conformance suite (store_conformance_test.cpp). docs/storage.md describes
// the tables and the durability promise.
//
// Thread safety: every method of every implementation is safe to call from
// any thread concurrently. Callbacks of AppendAsync run on an internal
// thread (the group committer) and must not block on the store.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/metadata.h"

namespace weft::store {

// A client-chosen operation id: unique per document. Retrying an op with the
// same id is idempotent.
struct OpId {
  std::uint64_t client_id = 0;
  std::uint64_t local_seq = 0;
  friend bool operator==(const OpId&, const OpId&) = default;
  friend auto operator<=>(const OpId&, const OpId&) = default;
};

// An operation to append. Payload and parents are opaque to the store.
struct NewOp {
  OpId id;
  std::string user_id;
  std::int64_t server_time_ms = 0;  // set by the caller; the store has no clock
  std::string parents;              // encoded base version
  std::string payload;              // encoded operation
};

// An operation as stored, with its server sequence number (1-based,
// contiguous per document).
struct StoredOp {
  std::int64_t seq = 0;
  OpId id;
  std::string user_id;
  std::int64_t server_time_ms = 0;
  std::string parents;
  std::string payload;
  friend bool operator==(const StoredOp&, const StoredOp&) = default;
};

// The outcome of one Append: seqs[i] and duplicate[i] describe ops[i].
// New ops have seqs first_new_seq .. first_new_seq + new_count - 1 in batch
// order; a duplicate (op id already stored, or repeated earlier in the same
// batch) carries the seq it was stored with first.
struct AppendResult {
  std::vector<std::int64_t> seqs;
  std::vector<bool> duplicate;
  std::int64_t first_new_seq = 0;  // 0 when new_count == 0
  std::int64_t new_count = 0;
  std::int64_t last_seq = 0;  // the document's last seq after this append
};

struct Snapshot {
  std::string doc_id;
  std::int64_t last_included_seq = 0;  // reflects ops 1..last_included_seq
  std::int64_t created_ms = 0;
  std::string state;  // encoded document, opaque
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

// A client id and the user who wrote its first op (local_seq 0).
struct Writer {
  std::uint64_t client_id = 0;
  std::string user_id;
  friend bool operator==(const Writer&, const Writer&) = default;
};

// What a document loads from: the latest snapshot (if any) and every op
// after it, from one consistent view, and who each client id belongs to.
struct LoadedDocument {
  std::optional<Snapshot> snapshot;
  std::vector<StoredOp> ops;  // seq > snapshot->last_included_seq (or > 0)
  std::int64_t last_seq = 0;
  // Every client id with an op stored at local_seq 0 (compacted or not),
  // once each, in no particular order.
  std::vector<Writer> writers;
};

// Returns ok when `state` (the latest snapshot of `doc_id`) decodes. Given by
// the caller so that the store does not depend on the engine.
using SnapshotValidator =
    std::function<Status(std::string_view doc_id, std::string_view state)>;

// Everything stored for one document, for export/import between stores:
// every op row in seq order (compacted ones carry no payload/parents and
// compacted[i] is true) and the latest snapshot.
struct DocumentDump {
  std::string doc_id;
  std::vector<StoredOp> ops;
  std::vector<bool> compacted;
  std::optional<Snapshot> snapshot;
  friend bool operator==(const DocumentDump&, const DocumentDump&) = default;
};

// What Verify answers for a document whose ops are compacted while
// `no_snapshot` (LatestSnapshot's answer) says it has no snapshot to load
// them from: kCorruption, or that error when it is not kNotFound.
Status CompactedWithoutSnapshot(const std::string& doc,
                                const Status& no_snapshot);

// kInvalidArgument unless `dump` is self-consistent: seqs 1..n, unique op
// ids, compacted ops a prefix covered by the snapshot, snapshot within 1..n.
Status CheckDocumentDump(const DocumentDump& dump);

using AppendCallback = std::function<void(Result<AppendResult>)>;
// Told about each durable group commit: how many operations it held and how
// long the transaction took, its fsync included (for metrics).
using CommitObserver =
    std::function<void(std::size_t ops, std::chrono::steady_clock::duration)>;

class Store {
 public:
  virtual ~Store() = default;

  // --- operation log ---

  // Appends `ops` (non-empty, else kInvalidArgument) to `doc_id` and returns
  // only after the batch is durable. New ops get a contiguous, gap-free seq
  // range atomically; an op id already stored is not stored again and
  // reports its original seq (not an error). On error nothing of the batch
  // is stored. Concurrent appends may share one durable commit.
  virtual Result<AppendResult> Append(std::string_view doc_id,
                                      std::span<const NewOp> ops) = 0;

  // As Append, but calls `done` once, after the batch is durable (or failed),
  // on an internal thread. `done` must be short and must not wait for the
  // store.
  virtual void AppendAsync(std::string doc_id, std::vector<NewOp> ops,
                           AppendCallback done) = 0;

  // Ops with seq > after_seq, in seq order, at most `limit` (0 = no limit).
  // kFailedPrecondition if any of them was compacted. An unknown document
  // yields an empty vector.
  virtual Result<std::vector<StoredOp>> ReadOps(std::string_view doc_id,
                                                std::int64_t after_seq,
                                                std::size_t limit = 0) = 0;

  // The last seq of `doc_id`; 0 for a document with no ops.
  virtual Result<std::int64_t> LastSeq(std::string_view doc_id) = 0;

  // Looks up the seq of a stored (possibly compacted) op id; kNotFound if
  // the op id was never stored for this document.
  virtual Result<std::int64_t> FindOp(std::string_view doc_id, OpId id) = 0;

  // --- snapshots and compaction ---

  // Durably saves a snapshot. kInvalidArgument unless
  // 0 < last_included_seq <= LastSeq(doc). Saving the same (doc, seq) again
  // replaces the state.
  virtual Status SaveSnapshot(const Snapshot& snapshot) = 0;

  // The snapshot with the highest last_included_seq; kNotFound if none.
  virtual Result<Snapshot> LatestSnapshot(std::string_view doc_id) = 0;

  // Latest snapshot plus trailing ops. kNotFound when the document has
  // neither ops nor snapshots.
  virtual Result<LoadedDocument> LoadDocument(std::string_view doc_id) = 0;

  // Drops the payloads of ops seq <= through_seq and older snapshots, keeping
  // their op ids (retries are still recognised). kFailedPrecondition unless a
  // snapshot with last_included_seq == through_seq is stored.
  virtual Status Compact(std::string_view doc_id, std::int64_t through_seq) = 0;

  // Deletes every op row and snapshot of `doc_id`: its content, for good
  // (its workspace was deleted). Ok when there is none. The caller makes
  // sure nothing appends to it meanwhile.
  virtual Status DeleteDocument(std::string_view doc_id) = 0;

  // --- recovery ---

  // Checks every document: seqs contiguous from 1, nothing after the latest
  // snapshot compacted, latest snapshot within the log and accepted by
  // `validator` (if given). kCorruption naming the document otherwise.
  virtual Status Verify(const SnapshotValidator& validator) = 0;

  // The ids of every document with ops or snapshots, sorted.
  virtual Result<std::vector<std::string>> ListDocumentIds() = 0;

  // --- export / import of one document ---

  // kNotFound when the document has neither ops nor snapshots.
  virtual Result<DocumentDump> ExportDocument(std::string_view doc_id) = 0;
  // Writes `dump` (checked with CheckDocumentDump) durably in one
  // transaction, keeping its seqs and op ids. kAlreadyExists if the document
  // already has ops or snapshots in this store.
  virtual Status ImportDocument(const DocumentDump& dump) = 0;

  // --- account metadata (metadata.h); same durability and thread safety ---
  virtual MetadataStore& metadata() = 0;
};

// The argument checks every implementation applies to Append: a non-empty
// doc id and a non-empty batch; kInvalidArgument otherwise.
Status CheckAppendArguments(std::string_view doc_id,
                            std::span<const NewOp> ops);

}  // namespace weft::store
