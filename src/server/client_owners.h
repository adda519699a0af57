#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace weft::server {

// Which user each client id of one document belongs to: the user whose
// change first used it (docs/protocol.md, "Client ids belong to users").
// A document has many client ids (one per editing session) and few users,
// so user ids are kept once each.
class ClientOwners {
 public:
  // Records `user` as the owner of `client_id`, unless it has one.
  void Add(std::uint64_t client_id, std::string_view user);
  // False when `client_id` belongs to a user other than `user`; true when
  // it is `user`'s or has no owner yet.
  bool MayWrite(std::uint64_t client_id, std::string_view user) const;
  std::size_t size() const { return owner_of_.size(); }

 private:
  std::unordered_map<std::uint64_t, std::uint32_t> owner_of_;  // -> users_
  std::unordered_map<std::string, std::uint32_t> index_;       // user -> users_
  std::vector<const std::string*> users_;  // the keys of index_ (stable)
};

}  // namespace weft::server
