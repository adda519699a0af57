#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/sync_connection.h"

namespace weft::server {

// The live sync connections of this node, by user, so that a permission
// change made through the REST API reaches that user's sessions at once
// (docs/protocol.md: access_removed), and expiry checks reach them all.
// Thread-safe.
class ConnectionRegistry {
 public:
  void Add(const std::shared_ptr<SyncConnection>& conn);
  void Remove(const SyncConnection* conn);

  // Re-checks the access of every connection of `user_id`.
  void AccessChanged(const std::string& user_id);
  // As AccessChanged, but a connection busy with a message (a subscribe
  // loading a large document holds it for seconds) is left due for the
  // next RetryRechecks instead of waited for: what the access feed's poll
  // thread calls, which else held every later entry and retry behind it.
  void AccessChangedSoon(const std::string& user_id);
  // Re-checks every connection (who changed is not known), as
  // AccessChangedSoon does.
  void AccessChangedForAll();
  // Re-checks the connections whose last check could not reach the store
  // (SyncConnection::recheck_due); weftd calls it with each access feed
  // poll, once a second, off the control strand (it calls the store).
  void RetryRechecks();
  // SyncConnection::CheckDeadlines on every connection: one sweep a second
  // for the whole node instead of a timer per connection.
  void CheckDeadlines(std::chrono::steady_clock::time_point now,
                      std::chrono::steady_clock::duration hello_timeout);
  // SyncConnection::StopActing on every connection (shutdown, before
  // CloseAll).
  void StopActingAll();
  // Whether any connection is handling a message (SyncConnection::handling).
  bool AnyHandling() const;
  // Closes every connection (1001 when the server shuts down).
  void CloseAll(std::uint16_t code, const std::string& reason);

  std::size_t size() const;

 private:
  std::vector<std::shared_ptr<SyncConnection>> Snapshot() const;
  mutable std::mutex mu_;
  std::map<const SyncConnection*, std::weak_ptr<SyncConnection>> conns_;
};

}  // namespace weft::server
