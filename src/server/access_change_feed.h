#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "store/metadata.h"

namespace weft::server {

// Follows the store's access change feed (MetadataStore::RecordAccessChange)
// so that a change made by another process — `weft user reset-password`
// while weftd runs — reaches this server's live sessions: each new entry
// calls `notify(user_id)`, which re-checks that user's sessions.
class AccessChangeFeed {
 public:
  using Notify = std::function<void(const std::string& user_id)>;
  using NotifyAll = std::function<void()>;

  // `notify_all` re-checks every session: it is called when entries may
  // have been missed (see Start).
  AccessChangeFeed(store::MetadataStore& metadata, Notify notify,
                   NotifyAll notify_all = nullptr)
      : metadata_(metadata),
        notify_(std::move(notify)),
        notify_all_(std::move(notify_all)) {}

  // Starts after the newest entry: an entry recorded before this server
  // started concerns none of its sessions. Poll starts when this failed;
  // which entries came after this call is then unknown, so that start
  // calls `notify_all` once instead of skipping them unseen.
  Status Start();

  // Notifies each entry recorded since the previous poll, in order, and
  // returns how many there were. On a store error nothing is skipped: the
  // next poll reads from the same place.
  Result<std::size_t> Poll();

  // Removes entries recorded before `cutoff_ms` (servers read an entry
  // within a poll interval; a day keeps them long enough to read by hand).
  Result<std::int64_t> Prune(std::int64_t cutoff_ms) {
    return metadata_.PruneAccessChanges(cutoff_ms);
  }

 private:
  store::MetadataStore& metadata_;
  Notify notify_;
  NotifyAll notify_all_;
  bool started_ = false;
  bool start_failed_ = false;  // a Start failed: entries may be missed
  std::int64_t after_ = 0;     // the last entry notified (or skipped at start)
};

}  // namespace weft::server
