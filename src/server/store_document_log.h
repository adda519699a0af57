#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "server/document_log.h"
#include "store/store.h"

namespace weft::server {

// The single-node DocumentLog: sequencing and durability by the Store's
// group commit (AppendAsync). Each change is one stored op with id
// (client_id, first_seq) and payload `varuint(span) bytes(update)`.
// Snapshots are built (BuildAndSaveSnapshot) and saved, and the log
// compacted up to them, on a worker thread of this object, never on the
// store's group-commit threads.
// Thread-safe. The store must outlive it.
class StoreDocumentLog : public DocumentLog {
 public:
  explicit StoreDocumentLog(store::Store& store);
  ~StoreDocumentLog() override;

  void Append(const std::string& doc, std::vector<ChangeToLog> changes,
              AppendDone done) override;
  void SaveSnapshot(const std::string& doc, StoredSnapshot snapshot,
                    SnapshotDone done) override;
  // Builds on the worker thread too.
  void BuildAndSaveSnapshot(const std::string& doc,
                            std::uint64_t last_included_seq,
                            SnapshotBuilder build,
                            BuiltSnapshotDone done) override;
  Result<DocumentHistory> Read(const std::string& doc) override;

  // The stored payload of a change, and back (kCorruption if malformed).
  static std::string EncodePayload(const proto::Change& change);
  static Result<proto::Change> DecodeStoredOp(const store::StoredOp& op);

 private:
  void Work();

  store::Store& store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread worker_;
};

}  // namespace weft::server
