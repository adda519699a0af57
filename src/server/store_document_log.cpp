#include "server/store_document_log.h"

#include <chrono>

#include "common/byte_io.h"

namespace weft::server {
namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

StoreDocumentLog::StoreDocumentLog(store::Store& store)
    : store_(store), worker_([this] { Work(); }) {}

StoreDocumentLog::~StoreDocumentLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();  // runs the tasks already queued first
}

void StoreDocumentLog::Work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

std::string StoreDocumentLog::EncodePayload(const proto::Change& change) {
  ByteWriter w;
  w.VarUint(change.span);
  w.Bytes(change.update);
  return w.Take();
}

Result<proto::Change> StoreDocumentLog::DecodeStoredOp(
    const store::StoredOp& op) {
  ByteReader r(op.payload);
  proto::Change c;
  c.client_id = op.id.client_id;
  c.first_seq = op.id.local_seq;
  c.span = r.VarUint();
  c.update = std::string(r.Bytes());
  WEFT_RETURN_IF_ERROR(r.Finish());
  if (c.span == 0) return Status::Corruption("stored change with span 0");
  return c;
}

void StoreDocumentLog::Append(const std::string& doc,
                              std::vector<ChangeToLog> changes,
                              AppendDone done) {
  std::vector<store::NewOp> ops;
  ops.reserve(changes.size());
  std::int64_t now = NowMs();
  for (const auto& [change, user] : changes) {
    store::NewOp op;
    op.id = store::OpId{change.client_id, change.first_seq};
    op.user_id = user;
    op.server_time_ms = now;
    op.payload = EncodePayload(change);
    ops.push_back(std::move(op));
  }
  store_.AppendAsync(
      doc, std::move(ops),
      [done = std::move(done)](Result<store::AppendResult> result) {
        if (!result.ok()) {
          done(result.status());
          return;
        }
        std::vector<std::uint64_t> seqs(result->seqs.begin(),
                                        result->seqs.end());
        done(std::move(seqs));
      });
}

void StoreDocumentLog::SaveSnapshot(const std::string& doc,
                                    StoredSnapshot snapshot,
                                    SnapshotDone done) {
  BuildAndSaveSnapshot(
      doc, snapshot.last_included_seq,
      [state = std::move(snapshot.state)]() mutable -> Result<std::string> {
        return std::move(state);
      },
      [done = std::move(done)](Result<StoredSnapshot> r) {
        done(r.ok() ? Status::Ok() : r.status());
      });
}

void StoreDocumentLog::BuildAndSaveSnapshot(const std::string& doc,
                                            std::uint64_t last_included_seq,
                                            SnapshotBuilder build,
                                            BuiltSnapshotDone done) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back([this, doc, last_included_seq, build = std::move(build),
                      done = std::move(done)] {
      auto state = build();
      if (!state.ok()) {
        done(state.status());
        return;
      }
      store::Snapshot s;
      s.doc_id = doc;
      s.last_included_seq = static_cast<std::int64_t>(last_included_seq);
      s.created_ms = NowMs();
      s.state = std::move(*state);
      Status status = store_.SaveSnapshot(s);
      if (status.ok()) status = store_.Compact(doc, s.last_included_seq);
      if (!status.ok()) {
        done(status);
        return;
      }
      done(StoredSnapshot{last_included_seq, std::move(s.state)});
    });
  }
  cv_.notify_one();
}

Result<DocumentHistory> StoreDocumentLog::Read(const std::string& doc) {
  auto loaded = store_.LoadDocument(doc);
  DocumentHistory h;
  if (!loaded.ok()) {
    if (loaded.status().code() == StatusCode::kNotFound) return h;
    return loaded.status();
  }
  if (loaded->snapshot) {
    h.snapshot = StoredSnapshot{
        static_cast<std::uint64_t>(loaded->snapshot->last_included_seq),
        std::move(loaded->snapshot->state)};
  }
  h.entries.reserve(loaded->ops.size());
  for (const auto& op : loaded->ops) {
    auto change = DecodeStoredOp(op);
    if (!change.ok()) {
      return Status::Corruption("document " + doc + " seq " +
                                std::to_string(op.seq) + ": " +
                                change.status().message());
    }
    h.entries.push_back(
        LogEntry{static_cast<std::uint64_t>(op.seq), std::move(*change)});
  }
  h.head_seq = static_cast<std::uint64_t>(loaded->last_seq);
  h.writers.reserve(loaded->writers.size());
  for (auto& w : loaded->writers) {
    h.writers.emplace_back(w.client_id, std::move(w.user_id));
  }
  return h;
}

}  // namespace weft::server
