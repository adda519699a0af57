#pragma once

#include <cstdint>

#include "common/status.h"
#include "proto/message.h"

namespace weft::server {

// Checks that applying `change` moved the per-client operation counts
// exactly as the change claims (docs/protocol.md, `change`): its client's
// count went from first_seq to first_seq + span, and the counts of all
// clients together grew by span — counts only grow, so no other client's
// count moved. Taking the two counts rather than two state vectors keeps
// the check of every submit free of allocations.
inline Status CheckChangeIds(std::uint64_t client_before,
                             std::uint64_t client_after,
                             std::uint64_t total_growth,
                             const proto::Change& change) {
  if (client_after == client_before) {
    return Status::InvalidArgument("the update holds none of the change's ids");
  }
  if (client_before != change.first_seq ||
      client_after != change.first_seq + change.span) {
    return Status::InvalidArgument(
        "the update does not hold exactly the change's ids");
  }
  if (total_growth != change.span) {
    return Status::InvalidArgument(
        "the update holds operations of another client");
  }
  return Status::Ok();
}

// A retried change must add nothing (its ids are already held).
inline Status CheckNothingNew(std::uint64_t total_before,
                              std::uint64_t total_after) {
  if (total_after != total_before) {
    return Status::InvalidArgument(
        "a retried change holds operations the document does not have");
  }
  return Status::Ok();
}

// The update waits for operations the model lacks.
inline Status DependsOnMissing() {
  return Status::InvalidArgument(
      "the update depends on operations the server does not have");
}

}  // namespace weft::server
