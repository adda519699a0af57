#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "proto/message.h"

namespace weft::server {

// One logged change and the server sequence number it was given.
struct LogEntry {
  std::uint64_t seq = 0;
  proto::Change change;
  friend bool operator==(const LogEntry&, const LogEntry&) = default;
};

struct StoredSnapshot {
  std::uint64_t last_included_seq = 0;
  std::string state;  // the engine's snapshot bytes
};

// What a document's log holds: the latest snapshot, if any, and every entry
// after it in sequence order. `head_seq` is the last sequence number given
// (0 for an empty log).
struct DocumentHistory {
  std::optional<StoredSnapshot> snapshot;
  std::vector<LogEntry> entries;
  std::uint64_t head_seq = 0;
  // (client id, user id): every client id with a logged change starting at
  // seq 0 (compacted or not) and who logged it, in no particular order.
  std::vector<std::pair<std::uint64_t, std::string>> writers;
};

// A change to log and who made it.
struct ChangeToLog {
  proto::Change change;
  std::string user_id;
};

// The one small interface through which the sync layer makes edits durable
// and gives them sequence numbers ("sequence and persist"). A single-node
// implementation sits on the Store's group commit; a multi-node design
// (per-document ownership, or sequencing in PostgreSQL with fan-out through
// Redis) replaces it without touching the protocol or the hub.
//
// Thread-safe. Completion callbacks may run on any thread, and must not
// call back into the log synchronously.
class DocumentLog {
 public:
  virtual ~DocumentLog() = default;

  using AppendDone = std::function<void(Result<std::vector<std::uint64_t>>)>;
  // Durably appends `changes` to `doc`'s log. Each change whose id
  // (client_id, first_seq) is not yet logged gets the next sequence number,
  // contiguous and gap-free; one already logged is not stored again and
  // keeps its original number. `done` runs exactly once, only after the
  // batch is durable, with one sequence number per change in order. On
  // failure the outcome may be unknown: a connection lost during COMMIT
  // leaves the batch durable or not, so the caller must read the log
  // again before it trusts what it holds. Appends to one document
  // complete in the order they were called.
  virtual void Append(const std::string& doc, std::vector<ChangeToLog> changes,
                      AppendDone done) = 0;

  using SnapshotDone = std::function<void(Status)>;
  // Durably stores a snapshot of `doc` covering every entry up to
  // `last_included_seq`; the log before it may then be compacted (op ids
  // stay recognised for idempotency).
  virtual void SaveSnapshot(const std::string& doc, StoredSnapshot snapshot,
                            SnapshotDone done) = 0;

  using SnapshotBuilder = std::function<Result<std::string>()>;
  using BuiltSnapshotDone = std::function<void(Result<StoredSnapshot>)>;
  // Builds a snapshot's state with `build`, which may take a while (a
  // replay of the log), then saves it as SaveSnapshot does; `done` gets
  // the snapshot saved, or the failure of either step. A log with a thread
  // of its own for snapshots builds there, so that the caller (possibly
  // Append's completion, which holds up every document's acks) returns at
  // once. This default builds on the calling thread.
  virtual void BuildAndSaveSnapshot(const std::string& doc,
                                    std::uint64_t last_included_seq,
                                    SnapshotBuilder build,
                                    BuiltSnapshotDone done) {
    auto state = build();
    if (!state.ok()) {
      done(state.status());
      return;
    }
    auto saved = std::make_shared<StoredSnapshot>(
        StoredSnapshot{last_included_seq, std::move(*state)});
    SaveSnapshot(doc, *saved, [saved, done = std::move(done)](Status s) {
      if (s.ok()) {
        done(std::move(*saved));
      } else {
        done(s);
      }
    });
  }

  // The latest snapshot, the entries after it and the writers. Blocking.
  virtual Result<DocumentHistory> Read(const std::string& doc) = 0;
};

}  // namespace weft::server
