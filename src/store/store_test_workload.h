#pragma once

// What the durability tests (fault injection, crash) share: a deterministic
// payload per op id and the check that every acknowledged op is stored
// exactly once, at the seq it was acknowledged with, in a gap-free log.
// Test support only.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace weft::store::testing {

struct AckedOp {
  std::string doc;
  OpId id;
  std::int64_t seq = 0;
};

inline std::string PayloadFor(OpId id) {
  return "payload:" + std::to_string(id.client_id) + ":" +
         std::to_string(id.local_seq) + std::string(24, 'x');
}

inline NewOp OpFor(OpId id) {
  NewOp op;
  op.id = id;
  op.user_id = "writer" + std::to_string(id.client_id);
  op.server_time_ms = static_cast<std::int64_t>(id.local_seq);
  op.payload = PayloadFor(id);
  return op;
}

// Appends the single op OpFor(id) to `doc`.
inline Result<AppendResult> AppendOp(Store& store, std::string_view doc,
                                     OpId id) {
  return store.Append(doc, std::vector<NewOp>{OpFor(id)});
}

struct CheckReport {
  std::size_t stored = 0;   // ops in the logs
  std::size_t missing = 0;  // acknowledged but not stored (as acknowledged)
  std::string first_problem;
};

// Reads every doc in `docs` and checks: seqs 1..n without gaps, each op id
// once, payloads intact, every acknowledged op present at its seq.
inline Result<CheckReport> CheckAcknowledged(
    Store& store, const std::vector<std::string>& docs,
    const std::vector<AckedOp>& acked) {
  CheckReport report;
  std::map<std::string, std::map<OpId, std::int64_t>> stored;
  for (const std::string& doc : docs) {
    auto ops = store.ReadOps(doc, 0);
    if (!ops.ok()) return ops.status();
    auto& ids = stored[doc];
    for (std::size_t i = 0; i < ops->size(); ++i) {
      const StoredOp& op = (*ops)[i];
      if (op.seq != static_cast<std::int64_t>(i + 1)) {
        return Status::Corruption(doc + ": seq " + std::to_string(op.seq) +
                                  " at position " + std::to_string(i + 1));
      }
      if (!ids.emplace(op.id, op.seq).second) {
        return Status::Corruption(doc + ": op id stored twice");
      }
      if (op.payload != PayloadFor(op.id)) {
        return Status::Corruption(doc + ": payload of seq " +
                                  std::to_string(op.seq) + " damaged");
      }
    }
    report.stored += ops->size();
  }
  for (const AckedOp& a : acked) {
    auto& ids = stored[a.doc];
    auto it = ids.find(a.id);
    if (it == ids.end() || it->second != a.seq) {
      if (report.missing++ == 0) {
        report.first_problem =
            a.doc + ": acknowledged op (" + std::to_string(a.id.client_id) +
            "," + std::to_string(a.id.local_seq) + ") at seq " +
            std::to_string(a.seq) +
            (it == ids.end() ? " is missing"
                             : " is at seq " + std::to_string(it->second));
      }
    }
  }
  return report;
}

}  // namespace weft::store::testing
