#include "store/memory_store.h"

#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "store/group_commit.h"
#include "store/memory_metadata.h"

namespace weft::store {
namespace {

struct MemOp {
  StoredOp op;
  bool compacted = false;
};

struct MemDoc {
  std::vector<MemOp> ops;  // ops[i].op.seq == i + 1
  std::map<OpId, std::int64_t> ids;
  std::map<std::int64_t, Snapshot> snapshots;
};

class MemoryStore final : public Store {
 public:
  MemoryStore()
      : committer_([this](std::span<AppendRequest> g) { return WriteGroup(g); },
                   GroupCommitter::Options{}) {}
  ~MemoryStore() override { committer_.Stop(); }

  Result<AppendResult> Append(std::string_view doc_id,
                              std::span<const NewOp> ops) override {
    WEFT_RETURN_IF_ERROR(CheckAppendArguments(doc_id, ops));
    return committer_.SubmitAndWait(std::string(doc_id),
                                    std::vector<NewOp>(ops.begin(), ops.end()));
  }

  void AppendAsync(std::string doc_id, std::vector<NewOp> ops,
                   AppendCallback done) override {
    Status s = CheckAppendArguments(doc_id, ops);
    if (!s.ok()) return done(s);
    committer_.Submit({std::move(doc_id), std::move(ops), std::move(done)});
  }

  Result<std::vector<StoredOp>> ReadOps(std::string_view doc_id,
                                        std::int64_t after_seq,
                                        std::size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<StoredOp> out;
    const MemDoc* doc = Find(doc_id);
    if (doc == nullptr) return out;
    std::int64_t start = after_seq < 0 ? 0 : after_seq;
    for (std::size_t i = static_cast<std::size_t>(start); i < doc->ops.size();
         ++i) {
      if (limit != 0 && out.size() >= limit) break;
      if (doc->ops[i].compacted) {
        return Status::FailedPrecondition(
            "ops of " + std::string(doc_id) + " up to seq " +
            std::to_string(i + 1) + " were compacted; load the snapshot");
      }
      out.push_back(doc->ops[i].op);
    }
    return out;
  }

  Result<std::int64_t> LastSeq(std::string_view doc_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    const MemDoc* doc = Find(doc_id);
    return doc == nullptr ? 0 : static_cast<std::int64_t>(doc->ops.size());
  }

  Result<std::int64_t> FindOp(std::string_view doc_id, OpId id) override {
    std::lock_guard<std::mutex> lock(mu_);
    const MemDoc* doc = Find(doc_id);
    if (doc != nullptr) {
      auto it = doc->ids.find(id);
      if (it != doc->ids.end()) return it->second;
    }
    return Status::NotFound("op id not stored");
  }

  Status SaveSnapshot(const Snapshot& snapshot) override {
    std::lock_guard<std::mutex> lock(mu_);
    MemDoc* doc = Find(snapshot.doc_id);
    std::int64_t last = doc == nullptr ? 0 : std::int64_t(doc->ops.size());
    if (snapshot.last_included_seq <= 0 || snapshot.last_included_seq > last) {
      return Status::InvalidArgument(
          "snapshot seq " + std::to_string(snapshot.last_included_seq) +
          " outside the log of " + snapshot.doc_id + " (1.." +
          std::to_string(last) + ")");
    }
    doc->snapshots[snapshot.last_included_seq] = snapshot;
    return Status::Ok();
  }

  Result<Snapshot> LatestSnapshot(std::string_view doc_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    const MemDoc* doc = Find(doc_id);
    if (doc == nullptr || doc->snapshots.empty()) {
      return Status::NotFound("no snapshot of " + std::string(doc_id));
    }
    return doc->snapshots.rbegin()->second;
  }

  Result<LoadedDocument> LoadDocument(std::string_view doc_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    const MemDoc* doc = Find(doc_id);
    if (doc == nullptr || (doc->ops.empty() && doc->snapshots.empty())) {
      return Status::NotFound("no document " + std::string(doc_id));
    }
    LoadedDocument out;
    std::int64_t from = 0;
    if (!doc->snapshots.empty()) {
      out.snapshot = doc->snapshots.rbegin()->second;
      from = out.snapshot->last_included_seq;
    }
    for (std::size_t i = static_cast<std::size_t>(from); i < doc->ops.size();
         ++i) {
      if (doc->ops[i].compacted) {
        return Status::Corruption("op " + std::to_string(i + 1) + " of " +
                                  std::string(doc_id) +
                                  " after the latest snapshot is compacted");
      }
      out.ops.push_back(doc->ops[i].op);
    }
    out.last_seq = static_cast<std::int64_t>(doc->ops.size());
    // One step per client id: its first op, then on to the next client.
    for (auto it = doc->ids.begin(); it != doc->ids.end();) {
      const std::uint64_t client = it->first.client_id;
      if (it->first.local_seq == 0) {
        out.writers.push_back(Writer{
            client,
            doc->ops[static_cast<std::size_t>(it->second - 1)].op.user_id});
      }
      if (client == UINT64_MAX) break;
      it = doc->ids.lower_bound(OpId{client + 1, 0});
    }
    return out;
  }

  Status DeleteDocument(std::string_view doc_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (MemDoc* doc = Find(doc_id)) *doc = MemDoc{};
    return Status::Ok();
  }

  Status Compact(std::string_view doc_id, std::int64_t through_seq) override {
    std::lock_guard<std::mutex> lock(mu_);
    MemDoc* doc = Find(doc_id);
    if (doc == nullptr || !doc->snapshots.contains(through_seq)) {
      return Status::FailedPrecondition(
          "no snapshot of " + std::string(doc_id) + " at seq " +
          std::to_string(through_seq) + " to compact up to");
    }
    for (std::int64_t i = 0; i < through_seq; ++i) {
      MemOp& m = doc->ops[static_cast<std::size_t>(i)];
      m.compacted = true;
      m.op.payload.clear();
      m.op.parents.clear();
    }
    doc->snapshots.erase(doc->snapshots.begin(),
                         doc->snapshots.find(through_seq));
    return Status::Ok();
  }

  Status Verify(const SnapshotValidator& validator) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, doc] : docs_) {
      for (std::size_t i = 0; i < doc.ops.size(); ++i) {
        if (doc.ops[i].op.seq != static_cast<std::int64_t>(i + 1)) {
          return Status::Corruption("document " + id + ": seq gap at " +
                                    std::to_string(i + 1));
        }
      }
      if (doc.snapshots.empty()) {
        for (const MemOp& op : doc.ops) {
          if (op.compacted) {
            return CompactedWithoutSnapshot(
                id, Status::NotFound("no snapshot of " + id));
          }
        }
        continue;
      }
      const Snapshot& s = doc.snapshots.rbegin()->second;
      for (std::size_t i = static_cast<std::size_t>(s.last_included_seq);
           i < doc.ops.size(); ++i) {
        if (doc.ops[i].compacted) {
          return Status::Corruption("document " + id + ": op " +
                                    std::to_string(i + 1) +
                                    " after the latest snapshot is compacted");
        }
      }
      if (validator) {
        Status v = validator(id, s.state);
        if (!v.ok()) {
          return Status::Corruption("document " + id +
                                    ": latest snapshot (seq " +
                                    std::to_string(s.last_included_seq) +
                                    ") does not decode: " + v.ToString());
        }
      }
    }
    return Status::Ok();
  }

  Result<DocumentDump> ExportDocument(std::string_view doc_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    const MemDoc* doc = Find(doc_id);
    if (doc == nullptr || (doc->ops.empty() && doc->snapshots.empty())) {
      return Status::NotFound("no document " + std::string(doc_id));
    }
    DocumentDump dump;
    dump.doc_id = std::string(doc_id);
    for (const MemOp& m : doc->ops) {
      dump.ops.push_back(m.op);
      dump.compacted.push_back(m.compacted);
    }
    if (!doc->snapshots.empty())
      dump.snapshot = doc->snapshots.rbegin()->second;
    return dump;
  }

  Status ImportDocument(const DocumentDump& dump) override {
    WEFT_RETURN_IF_ERROR(CheckDocumentDump(dump));
    std::lock_guard<std::mutex> lock(mu_);
    const MemDoc* existing = Find(dump.doc_id);
    if (existing != nullptr &&
        (!existing->ops.empty() || !existing->snapshots.empty())) {
      return Status::AlreadyExists("document " + dump.doc_id + " exists");
    }
    MemDoc doc;
    for (std::size_t i = 0; i < dump.ops.size(); ++i) {
      MemOp m{dump.ops[i], dump.compacted[i]};
      if (m.compacted) {
        m.op.payload.clear();
        m.op.parents.clear();
      }
      doc.ids.emplace(m.op.id, m.op.seq);
      doc.ops.push_back(std::move(m));
    }
    if (dump.snapshot) {
      doc.snapshots[dump.snapshot->last_included_seq] = *dump.snapshot;
    }
    docs_[dump.doc_id] = std::move(doc);
    return Status::Ok();
  }

  MetadataStore& metadata() override { return metadata_; }

  Result<std::vector<std::string>> ListDocumentIds() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [id, doc] : docs_) out.push_back(id);
    return out;
  }

 private:
  MemDoc* Find(std::string_view doc_id) {
    auto it = docs_.find(doc_id);
    return it == docs_.end() ? nullptr : &it->second;
  }

  Result<std::vector<Result<AppendResult>>> WriteGroup(
      std::span<AppendRequest> group) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Result<AppendResult>> results;
    for (AppendRequest& req : group) {
      MemDoc& doc = docs_[req.doc_id];
      AppendResult r;
      for (NewOp& op : req.ops) {
        auto it = doc.ids.find(op.id);
        if (it != doc.ids.end()) {
          r.seqs.push_back(it->second);
          r.duplicate.push_back(true);
          continue;
        }
        std::int64_t seq = static_cast<std::int64_t>(doc.ops.size()) + 1;
        doc.ids.emplace(op.id, seq);
        doc.ops.push_back(
            {StoredOp{seq, op.id, std::move(op.user_id), op.server_time_ms,
                      std::move(op.parents), std::move(op.payload)},
             false});
        if (r.new_count == 0) r.first_new_seq = seq;
        ++r.new_count;
        r.seqs.push_back(seq);
        r.duplicate.push_back(false);
      }
      r.last_seq = static_cast<std::int64_t>(doc.ops.size());
      results.emplace_back(std::move(r));
    }
    return results;
  }

  std::mutex mu_;
  std::map<std::string, MemDoc, std::less<>> docs_;  // guarded by mu_
  MemoryMetadata metadata_;
  GroupCommitter committer_;  // last: stopped before the maps go
};

}  // namespace

std::unique_ptr<Store> NewMemoryStore() {
  return std::make_unique<MemoryStore>();
}

}  // namespace weft::store
