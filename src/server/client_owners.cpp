#include "server/client_owners.h"

namespace weft::server {

void ClientOwners::Add(std::uint64_t client_id, std::string_view user) {
  if (owner_of_.contains(client_id)) return;
  auto [it, added] = index_.try_emplace(
      std::string(user), static_cast<std::uint32_t>(users_.size()));
  if (added) users_.push_back(&it->first);
  owner_of_.emplace(client_id, it->second);
}

bool ClientOwners::MayWrite(std::uint64_t client_id,
                            std::string_view user) const {
  auto it = owner_of_.find(client_id);
  return it == owner_of_.end() || *users_[it->second] == user;
}

}  // namespace weft::server
