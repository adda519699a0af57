#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "server/document_log.h"

namespace weft::server {

// A DocumentLog in memory, honouring every promise of the interface except
// surviving the process. For tests, and for weftd's `--store memory`.
// Callbacks run synchronously, on the calling thread, after the lock is
// released. `FailNextAppends(n)` makes the next n appends fail (unavailable)
// without storing anything, to test failure paths.
class MemoryDocumentLog : public DocumentLog {
 public:
  void Append(const std::string& doc, std::vector<ChangeToLog> changes,
              AppendDone done) override;
  void SaveSnapshot(const std::string& doc, StoredSnapshot snapshot,
                    SnapshotDone done) override;
  Result<DocumentHistory> Read(const std::string& doc) override;

  void FailNextAppends(int n);
  // While held, appends wait (nothing stored, `done` not called); turning
  // it off completes them in order, on that thread.
  void HoldAppends(bool hold);
  // Entries stored for `doc` since its snapshot (for tests).
  std::size_t EntryCount(const std::string& doc);

 private:
  struct Doc {
    std::uint64_t head = 0;
    std::optional<StoredSnapshot> snapshot;
    std::vector<LogEntry> entries;  // after the snapshot
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> ids;
    std::vector<std::pair<std::uint64_t, std::string>> writers;
  };
  std::mutex mu_;
  std::map<std::string, Doc> docs_;          // guarded by mu_
  int fail_appends_ = 0;                     // guarded by mu_
  bool hold_ = false;                        // guarded by mu_
  std::vector<std::function<void()>> held_;  // guarded by mu_
};

}  // namespace weft::server
