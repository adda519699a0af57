#include "server/memory_document_log.h"

#include <algorithm>

namespace weft::server {

void MemoryDocumentLog::Append(const std::string& doc,
                               std::vector<ChangeToLog> changes,
                               AppendDone done) {
  if (changes.empty()) {  // as the Store: an empty batch is a caller bug
    done(Status::InvalidArgument("empty append"));
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (hold_) {
      held_.push_back([this, doc, changes = std::move(changes),
                       done = std::move(done)]() mutable {
        Append(doc, std::move(changes), std::move(done));
      });
      return;
    }
  }
  std::vector<std::uint64_t> seqs;
  bool failed = false;
  {
    std::lock_guard lock(mu_);
    if (fail_appends_ > 0) {
      --fail_appends_;
      failed = true;
    } else {
      Doc& d = docs_[doc];
      for (auto& [c, user] : changes) {
        auto key = std::make_pair(c.client_id, c.first_seq);
        auto it = d.ids.find(key);
        if (it != d.ids.end()) {
          seqs.push_back(it->second);
          continue;
        }
        std::uint64_t seq = ++d.head;
        d.ids.emplace(key, seq);
        if (c.first_seq == 0) d.writers.emplace_back(c.client_id, user);
        d.entries.push_back(LogEntry{seq, std::move(c)});
        seqs.push_back(seq);
      }
    }
  }
  if (failed) {
    done(Status::Unavailable("injected append failure"));
    return;
  }
  done(std::move(seqs));
}

void MemoryDocumentLog::HoldAppends(bool hold) {
  std::vector<std::function<void()>> release;
  {
    std::lock_guard lock(mu_);
    hold_ = hold;
    if (!hold) release.swap(held_);
  }
  for (auto& f : release) f();
}

void MemoryDocumentLog::SaveSnapshot(const std::string& doc,
                                     StoredSnapshot snapshot,
                                     SnapshotDone done) {
  Status status;
  {
    std::lock_guard lock(mu_);
    Doc& d = docs_[doc];
    if (snapshot.last_included_seq > d.head) {
      status = Status::InvalidArgument("snapshot beyond the log's head");
    } else {
      std::uint64_t upto = snapshot.last_included_seq;
      d.entries.erase(
          std::remove_if(d.entries.begin(), d.entries.end(),
                         [upto](const LogEntry& e) { return e.seq <= upto; }),
          d.entries.end());
      d.snapshot = std::move(snapshot);
    }
  }
  done(status);
}

Result<DocumentHistory> MemoryDocumentLog::Read(const std::string& doc) {
  std::lock_guard lock(mu_);
  DocumentHistory h;
  auto it = docs_.find(doc);
  if (it == docs_.end()) return h;
  h.snapshot = it->second.snapshot;
  h.entries = it->second.entries;
  h.head_seq = it->second.head;
  h.writers = it->second.writers;
  return h;
}

void MemoryDocumentLog::FailNextAppends(int n) {
  std::lock_guard lock(mu_);
  fail_appends_ = n;
}

std::size_t MemoryDocumentLog::EntryCount(const std::string& doc) {
  std::lock_guard lock(mu_);
  auto it = docs_.find(doc);
  return it == docs_.end() ? 0 : it->second.entries.size();
}

}  // namespace weft::server
