#pragma once

#include <cstdint>
#include <map>

#include "common/status.h"
#include "proto/message.h"

namespace weft::server {

// Checks that applying `change` moved the per-client operation counts from
// `before` to `after` exactly as the change claims: its client's count went
// from first_seq to first_seq + span, and no other client's count moved
// (docs/protocol.md, `change`). Counts map a client id to its dense
// operation count (a state vector); absent means 0.
template <typename CountsBefore, typename CountsAfter>
Status CheckChangeIds(const CountsBefore& before, const CountsAfter& after,
                      const proto::Change& change) {
  bool saw_client = false;
  for (const auto& [client, next] : after) {
    auto was = before.find(client);
    std::uint64_t prev = was == before.end() ? 0 : was->second;
    if (client == change.client_id) {
      saw_client = true;
      if (prev != change.first_seq || next != change.first_seq + change.span) {
        return Status::InvalidArgument(
            "the update does not hold exactly the change's ids");
      }
    } else if (next != prev) {
      return Status::InvalidArgument(
          "the update holds operations of another client");
    }
  }
  if (!saw_client) {
    return Status::InvalidArgument("the update holds none of the change's ids");
  }
  return Status::Ok();
}

}  // namespace weft::server
