#include "store/store.h"

#include <set>

namespace weft::store {

Status CheckAppendArguments(std::string_view doc_id,
                            std::span<const NewOp> ops) {
  if (doc_id.empty()) return Status::InvalidArgument("empty document id");
  if (ops.empty()) return Status::InvalidArgument("empty batch of operations");
  return Status::Ok();
}

Status CompactedWithoutSnapshot(const std::string& doc,
                                const Status& no_snapshot) {
  if (no_snapshot.code() != StatusCode::kNotFound) return no_snapshot;
  return Status::Corruption("document " + doc +
                            ": ops are compacted but it has no snapshot to "
                            "load them from");
}

Status CheckDocumentDump(const DocumentDump& dump) {
  if (dump.doc_id.empty()) return Status::InvalidArgument("empty document id");
  if (dump.compacted.size() != dump.ops.size()) {
    return Status::InvalidArgument("compacted flags do not match the ops");
  }
  std::set<OpId> ids;
  std::int64_t last_compacted = 0;
  for (std::size_t i = 0; i < dump.ops.size(); ++i) {
    const StoredOp& op = dump.ops[i];
    if (op.seq != static_cast<std::int64_t>(i + 1)) {
      return Status::InvalidArgument("seq " + std::to_string(op.seq) +
                                     " at position " + std::to_string(i + 1));
    }
    if (!ids.insert(op.id).second) {
      return Status::InvalidArgument("op id repeated at seq " +
                                     std::to_string(op.seq));
    }
    if (dump.compacted[i]) {
      if (last_compacted != op.seq - 1) {
        return Status::InvalidArgument("compacted ops are not a prefix");
      }
      last_compacted = op.seq;
    }
  }
  if (dump.snapshot) {
    const Snapshot& s = *dump.snapshot;
    if (s.doc_id != dump.doc_id) {
      return Status::InvalidArgument("snapshot of another document");
    }
    if (s.last_included_seq <= 0 ||
        s.last_included_seq > static_cast<std::int64_t>(dump.ops.size())) {
      return Status::InvalidArgument("snapshot outside the log");
    }
  }
  std::int64_t covered = dump.snapshot ? dump.snapshot->last_included_seq : 0;
  if (last_compacted > covered) {
    return Status::InvalidArgument("compacted ops not covered by the snapshot");
  }
  if (dump.ops.empty() && !dump.snapshot) {
    return Status::InvalidArgument("empty document");
  }
  return Status::Ok();
}

}  // namespace weft::store
