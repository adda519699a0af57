#include "server/connection_registry.h"

namespace weft::server {

void ConnectionRegistry::Add(const std::shared_ptr<SyncConnection>& conn) {
  std::lock_guard lock(mu_);
  conns_[conn.get()] = conn;
}

void ConnectionRegistry::Remove(const SyncConnection* conn) {
  std::lock_guard lock(mu_);
  conns_.erase(conn);
}

std::vector<std::shared_ptr<SyncConnection>> ConnectionRegistry::Snapshot()
    const {
  std::vector<std::shared_ptr<SyncConnection>> out;
  std::lock_guard lock(mu_);
  for (const auto& [ptr, weak] : conns_) {
    if (auto c = weak.lock()) out.push_back(std::move(c));
  }
  return out;
}

void ConnectionRegistry::AccessChanged(const std::string& user_id) {
  for (auto& c : Snapshot()) {
    if (c->user_id() == user_id) c->RecheckAccess();
  }
}

void ConnectionRegistry::AccessChangedSoon(const std::string& user_id) {
  for (auto& c : Snapshot()) {
    if (c->user_id() == user_id) c->RecheckAccessSoon();
  }
}

void ConnectionRegistry::RetryRechecks() {
  for (auto& c : Snapshot()) {
    if (c->recheck_due()) c->RecheckAccess(/*wait=*/false);
  }
}

void ConnectionRegistry::AccessChangedForAll() {
  for (auto& c : Snapshot()) c->RecheckAccessSoon();
}

void ConnectionRegistry::CheckDeadlines(
    std::chrono::steady_clock::time_point now,
    std::chrono::steady_clock::duration hello_timeout) {
  for (auto& c : Snapshot()) c->CheckDeadlines(now, hello_timeout);
}

void ConnectionRegistry::StopActingAll() {
  for (auto& c : Snapshot()) c->StopActing();
}

bool ConnectionRegistry::AnyHandling() const {
  for (auto& c : Snapshot()) {
    if (c->handling()) return true;
  }
  return false;
}

void ConnectionRegistry::CloseAll(std::uint16_t code,
                                  const std::string& reason) {
  for (auto& c : Snapshot()) c->Close(code, reason);
}

std::size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mu_);
  return conns_.size();
}

}  // namespace weft::server
