#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "store/group_commit.h"
#include "store/sqlite_metadata.h"
#include "store/sqlite_util.h"
#include "store/sqlite_wal_buffer_vfs.h"

namespace weft::store {
namespace {

using sqlite::Error;
using sqlite::Stmt;
using sqlite::Use;

// Append-only: a released migration is never edited (docs/storage.md).
const char* const kMigrations[] = {
    // 1: the operation log and snapshots.
    R"sql(
CREATE TABLE ops (
  doc_id         TEXT    NOT NULL,
  seq            INTEGER NOT NULL,
  client_id      INTEGER NOT NULL,
  local_seq      INTEGER NOT NULL,
  user_id        TEXT    NOT NULL,
  server_time_ms INTEGER NOT NULL,
  parents        BLOB,
  payload        BLOB,
  PRIMARY KEY (doc_id, seq),
  UNIQUE (doc_id, client_id, local_seq)
) WITHOUT ROWID;
CREATE TABLE snapshots (
  doc_id            TEXT    NOT NULL,
  last_included_seq INTEGER NOT NULL,
  created_ms        INTEGER NOT NULL,
  state             BLOB    NOT NULL,
  PRIMARY KEY (doc_id, last_included_seq)
);
)sql",
    // 2: account metadata (sqlite_metadata.cpp).
    kSqliteMetadataSchema,
    // 3: who each client id belongs to: the user of its first op.
    R"sql(
CREATE INDEX ops_first_of_client ON ops (doc_id, client_id, user_id)
  WHERE local_seq = 0;
)sql",
    // 4: refresh families remember the password version they started
    // under and the token before the current one.
    R"sql(
ALTER TABLE refresh_token_families ADD COLUMN token_version INTEGER NOT NULL
  DEFAULT 0;
ALTER TABLE refresh_token_families ADD COLUMN prev_token_hash TEXT NOT NULL
  DEFAULT '';
)sql",  // 5: the access change feed (MetadataStore::RecordAccessChange).
    R"sql(
CREATE TABLE access_changes (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT    NOT NULL,
  at_ms   INTEGER NOT NULL
);
CREATE INDEX access_changes_at ON access_changes (at_ms);
)sql",
    // 6: users keep their token version (store::TokenVersion), so that a
    // rehash of the same password does not end their sessions.
    R"sql(
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
)sql",
};
constexpr int kSchemaVersion =
    static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class SqliteStore final : public Store {
 public:
  SqliteStore() = default;
  ~SqliteStore() override {
    if (committer_) committer_->Stop();
    committer_.reset();
    {
      std::lock_guard<std::mutex> lock(checkpoint_mu_);
      stopping_ = true;
      checkpoint_cv_.notify_one();
    }
    if (checkpointer_.joinable()) checkpointer_.join();
    if (checkpoint_db_ != nullptr) sqlite3_close(checkpoint_db_);
    // Statements before the connection.
    metadata_.reset();
    stmts_.reset();
    if (db_ != nullptr) sqlite3_close(db_);
  }

  Status Open(const SqliteOptions& options) {
    options_ = options;
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    // WAL writes are coalesced until their fsync (sqlite_wal_buffer_vfs.h);
    // not without fsyncs, where other connections could read frames still
    // in the buffer.
    vfs_ = options.synchronous_full ? WalBufferVfs(options.vfs) : options.vfs;
    int rc = sqlite3_open_v2(options.path.c_str(), &db_, flags,
                             vfs_.empty() ? nullptr : vfs_.c_str());
    if (rc != SQLITE_OK) return Error(db_, rc, "open " + options.path);
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, options.busy_timeout_ms);
    WEFT_RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=ON"));
    // Takes effect only when the file is new (an existing store keeps its
    // page size). Each op dirties about two B-tree leaves (its document's end
    // of the ops table and its client's end of the op-id index), and each
    // dirty page is written whole to the WAL and fsynced: 2 KiB pages halve
    // the bytes per group commit against the default 4 KiB.
    WEFT_RETURN_IF_ERROR(Exec("PRAGMA page_size=2048"));
    {
      Stmt s;
      WEFT_RETURN_IF_ERROR(s.Prepare(db_, "PRAGMA journal_mode=WAL"));
      Use u(s);
      auto row = u.Step();
      if (!row.ok()) return row.status();
      if (!*row || u.ColText(0) != "wal") {
        return Status::Unavailable("sqlite: cannot switch " + options.path +
                                   " to WAL journal mode");
      }
    }
    WEFT_RETURN_IF_ERROR(Exec(options.synchronous_full
                                  ? "PRAGMA synchronous=FULL"
                                  : "PRAGMA synchronous=OFF"));
    defer_sync_ = options.synchronous_full && options.defer_wal_sync;
    WEFT_RETURN_IF_ERROR(Migrate());
    WEFT_RETURN_IF_ERROR(PrepareAll());
    WEFT_RETURN_IF_ERROR(StartCheckpointer());
    metadata_ = std::make_unique<SqliteMetadata>(db_, &mu_);
    if (options.verify_on_open) {
      WEFT_RETURN_IF_ERROR(Verify(options.validator));
    }
    committer_ = std::make_unique<GroupCommitter>(
        [this](std::span<AppendRequest> g) { return WriteGroup(g); },
        GroupCommitter::Options{options.max_group_ops, options.on_commit,
                                defer_sync_ ? std::function<Status()>([this] {
                                  return SyncCommits();
                                })
                                            : std::function<Status()>()});
    return Status::Ok();
  }

  Result<AppendResult> Append(std::string_view doc_id,
                              std::span<const NewOp> ops) override {
    WEFT_RETURN_IF_ERROR(CheckAppendArguments(doc_id, ops));
    return committer_->SubmitAndWait(
        std::string(doc_id), std::vector<NewOp>(ops.begin(), ops.end()));
  }

  void AppendAsync(std::string doc_id, std::vector<NewOp> ops,
                   AppendCallback done) override {
    Status s = CheckAppendArguments(doc_id, ops);
    if (!s.ok()) return done(s);
    committer_->Submit({std::move(doc_id), std::move(ops), std::move(done)});
  }

  Result<std::vector<StoredOp>> ReadOps(std::string_view doc_id,
                                        std::int64_t after_seq,
                                        std::size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    WEFT_RETURN_IF_ERROR(SyncCommits());
    return ReadOpsLocked(doc_id, after_seq, limit,
                         /*compacted_is_corrupt=*/false);
  }

  Result<std::int64_t> LastSeq(std::string_view doc_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    WEFT_RETURN_IF_ERROR(SyncCommits());
    return LastSeqLocked(doc_id);
  }

  Result<std::int64_t> FindOp(std::string_view doc_id, OpId id) override {
    std::lock_guard<std::mutex> lock(mu_);
    WEFT_RETURN_IF_ERROR(SyncCommits());
    Use u(stmts_->find_op);
    u.Text(1, doc_id).U64(2, id.client_id).U64(3, id.local_seq);
    auto row = u.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("op id not stored");
    return u.ColInt(0);
  }

  Status SaveSnapshot(const Snapshot& snapshot) override {
    std::lock_guard<std::mutex> lock(mu_);
    WEFT_RETURN_IF_ERROR(SyncCommits());
    WEFT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s = [&]() -> Status {
      auto last = LastSeqLocked(snapshot.doc_id);
      if (!last.ok()) return last.status();
      if (snapshot.last_included_seq <= 0 ||
          snapshot.last_included_seq > *last) {
        return Status::InvalidArgument(
            "snapshot seq " + std::to_string(snapshot.last_included_seq) +
            " outside the log of " + snapshot.doc_id + " (1.." +
            std::to_string(*last) + ")");
      }
      Use u(stmts_->save_snapshot);
      u.Text(1, snapshot.doc_id)
          .Int(2, snapshot.last_included_seq)
          .Int(3, snapshot.created_ms)
          .Blob(4, snapshot.state);
      return u.Run();
    }();
    return Finish(s);
  }

  Result<Snapshot> LatestSnapshot(std::string_view doc_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    WEFT_RETURN_IF_ERROR(SyncCommits());
    return LatestSnapshotLocked(doc_id);
  }

  Result<LoadedDocument> LoadDocument(std::string_view doc_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    WEFT_RETURN_IF_ERROR(SyncCommits());
    // Holding mu_ excludes the only writer: one consistent view.
    LoadedDocument out;
    auto last = LastSeqLocked(doc_id);
    if (!last.ok()) return last.status();
    out.last_seq = *last;
    std::int64_t from = 0;
    auto snap = LatestSnapshotLocked(doc_id);
    if (snap.ok()) {
      from = snap->last_included_seq;
      out.snapshot = std::move(*snap);
    } else if (snap.status().code() != StatusCode::kNotFound) {
      return snap.status();
    }
    if (!out.snapshot && out.last_seq == 0) {
      return Status::NotFound("no document " + std::string(doc_id));
    }
    auto ops = ReadOpsLocked(doc_id, from, 0, /*compacted_is_corrupt=*/true);
    if (!ops.ok()) return ops.status();
    out.ops = std::move(*ops);
    Use u(stmts_->writers);
    u.Text(1, doc_id);
    for (;;) {
      auto row = u.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      out.writers.push_back(
          Writer{static_cast<std::uint64_t>(u.ColInt(0)), u.ColText(1)});
    }
    return out;
  }

  Status DeleteDocument(std::string_view doc_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    WEFT_RETURN_IF_ERROR(SyncCommits());
    WEFT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s = [&]() -> Status {
      for (const char* sql : {"DELETE FROM ops WHERE doc_id = ?",
                              "DELETE FROM snapshots WHERE doc_id = ?"}) {
        Stmt st;
        WEFT_RETURN_IF_ERROR(st.Prepare(db_, sql));
        Use u(st);
        u.Text(1, doc_id);
        WEFT_RETURN_IF_ERROR(u.Run());
      }
      return Status::Ok();
    }();
    if (!s.ok()) {
      (void)Exec("ROLLBACK");
      return s;
    }
    return Exec("COMMIT");
  }

  Status Compact(std::string_view doc_id, std::int64_t through_seq) override {
    std::lock_guard<std::mutex> lock(mu_);
    WEFT_RETURN_IF_ERROR(SyncCommits());
    WEFT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s = [&]() -> Status {
      {
        Use u(stmts_->has_snapshot);
        u.Text(1, doc_id).Int(2, through_seq);
        auto row = u.Step();
        if (!row.ok()) return row.status();
        if (!*row) {
          return Status::FailedPrecondition(
              "no snapshot of " + std::string(doc_id) + " at seq " +
              std::to_string(through_seq) + " to compact up to");
        }
      }
      {
        Use u(stmts_->compact_ops);
        u.Text(1, doc_id).Int(2, through_seq);
        WEFT_RETURN_IF_ERROR(u.Run());
      }
      Use u(stmts_->drop_old_snapshots);
      u.Text(1, doc_id).Int(2, through_seq);
      return u.Run();
    }();
    return Finish(s);
  }

  Status Verify(const SnapshotValidator& validator) override {
    std::lock_guard<std::mutex> lock(mu_);
    WEFT_RETURN_IF_ERROR(SyncCommits());
    Stmt shape;
    WEFT_RETURN_IF_ERROR(shape.Prepare(db_,
                                       "SELECT doc_id, count(*), min(seq), "
                                       "max(seq), count(*) - count(payload) "
                                       "FROM ops GROUP BY doc_id"));
    Use u(shape);
    for (;;) {
      auto row = u.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      std::string doc = u.ColText(0);
      std::int64_t n = u.ColInt(1), lo = u.ColInt(2), hi = u.ColInt(3);
      if (lo != 1 || hi != n) {
        return Status::Corruption(
            "document " + doc + ": seqs not contiguous (" + std::to_string(n) +
            " ops, seq " + std::to_string(lo) + ".." + std::to_string(hi) +
            ")");
      }
      if (u.ColInt(4) > 0) {
        auto snap = LatestSnapshotLocked(doc);
        if (!snap.ok()) return CompactedWithoutSnapshot(doc, snap.status());
      }
    }
    Stmt docs;
    WEFT_RETURN_IF_ERROR(docs.Prepare(
        db_, "SELECT DISTINCT doc_id FROM snapshots ORDER BY doc_id"));
    Use d(docs);
    for (;;) {
      auto row = d.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      std::string doc = d.ColText(0);
      auto snap = LatestSnapshotLocked(doc);
      if (!snap.ok()) return snap.status();
      auto last = LastSeqLocked(doc);
      if (!last.ok()) return last.status();
      if (snap->last_included_seq > *last) {
        return Status::Corruption(
            "document " + doc + ": latest snapshot at seq " +
            std::to_string(snap->last_included_seq) + " is past the log (" +
            std::to_string(*last) + ")");
      }
      {
        Use c(stmts_->count_compacted_after);
        c.Text(1, doc).Int(2, snap->last_included_seq);
        auto r = c.Step();
        if (!r.ok()) return r.status();
        if (c.ColInt(0) != 0) {
          return Status::Corruption("document " + doc +
                                    ": ops after the latest snapshot are "
                                    "compacted");
        }
      }
      if (validator) {
        Status v = validator(doc, snap->state);
        if (!v.ok()) {
          return Status::Corruption("document " + doc +
                                    ": latest snapshot (seq " +
                                    std::to_string(snap->last_included_seq) +
                                    ") does not decode: " + v.ToString());
        }
      }
    }
    return Status::Ok();
  }

  Result<DocumentDump> ExportDocument(std::string_view doc_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    WEFT_RETURN_IF_ERROR(SyncCommits());
    // The ops and the snapshot from one read transaction: a weftd writing
    // beside this export (another process) may snapshot and compact in
    // between, and a snapshot past the ops read is a dump no import takes.
    WEFT_RETURN_IF_ERROR(Exec("BEGIN"));
    auto dump = ExportLocked(doc_id);
    Status ended = Exec(dump.ok() ? "COMMIT" : "ROLLBACK");
    if (!dump.ok()) return dump.status();
    WEFT_RETURN_IF_ERROR(ended);
    return dump;
  }

  Result<DocumentDump> ExportLocked(std::string_view doc_id) {
    DocumentDump dump;
    dump.doc_id = std::string(doc_id);
    {
      Use u(stmts_->dump_ops);
      u.Text(1, doc_id);
      for (;;) {
        auto row = u.Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        StoredOp op;
        op.seq = u.ColInt(0);
        op.id.client_id = static_cast<std::uint64_t>(u.ColInt(1));
        op.id.local_seq = static_cast<std::uint64_t>(u.ColInt(2));
        op.user_id = u.ColText(3);
        op.server_time_ms = u.ColInt(4);
        op.parents = u.ColText(5);
        op.payload = u.ColText(6);
        dump.compacted.push_back(u.ColNull(6));
        dump.ops.push_back(std::move(op));
      }
    }
    auto snap = LatestSnapshotLocked(doc_id);
    if (snap.ok()) {
      dump.snapshot = std::move(*snap);
    } else if (snap.status().code() != StatusCode::kNotFound) {
      return snap.status();
    }
    if (dump.ops.empty() && !dump.snapshot) {
      return Status::NotFound("no document " + std::string(doc_id));
    }
    return dump;
  }

  Status ImportDocument(const DocumentDump& dump) override {
    WEFT_RETURN_IF_ERROR(CheckDocumentDump(dump));
    std::lock_guard<std::mutex> lock(mu_);
    WEFT_RETURN_IF_ERROR(SyncCommits());
    WEFT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s = [&]() -> Status {
      auto last = LastSeqLocked(dump.doc_id);
      if (!last.ok()) return last.status();
      auto snap = LatestSnapshotLocked(dump.doc_id);
      if (*last != 0 || snap.ok()) {
        return Status::AlreadyExists("document " + dump.doc_id + " exists");
      }
      for (std::size_t i = 0; i < dump.ops.size(); ++i) {
        const StoredOp& op = dump.ops[i];
        Use u(stmts_->import_op);
        u.Text(1, dump.doc_id)
            .Int(2, op.seq)
            .U64(3, op.id.client_id)
            .U64(4, op.id.local_seq)
            .Text(5, op.user_id)
            .Int(6, op.server_time_ms);
        if (!dump.compacted[i]) u.Blob(7, op.parents).Blob(8, op.payload);
        WEFT_RETURN_IF_ERROR(u.Run());
      }
      if (dump.snapshot) {
        Use u(stmts_->save_snapshot);
        u.Text(1, dump.doc_id)
            .Int(2, dump.snapshot->last_included_seq)
            .Int(3, dump.snapshot->created_ms)
            .Blob(4, dump.snapshot->state);
        WEFT_RETURN_IF_ERROR(u.Run());
      }
      return Status::Ok();
    }();
    return Finish(s);
  }

  MetadataStore& metadata() override { return *metadata_; }

  Result<std::vector<std::string>> ListDocumentIds() override {
    std::lock_guard<std::mutex> lock(mu_);
    WEFT_RETURN_IF_ERROR(SyncCommits());
    Use u(stmts_->list_docs);
    std::vector<std::string> out;
    for (;;) {
      auto row = u.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      out.push_back(u.ColText(0));
    }
  }

 private:
  struct Statements {
    Stmt begin, commit, rollback, insert_op, find_op, last_seq, read_ops,
        save_snapshot, latest_snapshot, has_snapshot, compact_ops,
        drop_old_snapshots, count_compacted_after, list_docs, dump_ops,
        import_op, writers;
  };

  Status StartCheckpointer() {
    WEFT_RETURN_IF_ERROR(Exec("PRAGMA wal_autocheckpoint=0"));
    int rc = sqlite3_open_v2(options_.path.c_str(), &checkpoint_db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             vfs_.empty() ? nullptr : vfs_.c_str());
    if (rc != SQLITE_OK) return Error(checkpoint_db_, rc, "open checkpointer");
    sqlite3_busy_timeout(checkpoint_db_, options_.busy_timeout_ms);
    char* err = nullptr;
    rc = sqlite3_exec(checkpoint_db_,
                      options_.synchronous_full ? "PRAGMA synchronous=FULL"
                                                : "PRAGMA synchronous=OFF",
                      nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return Error(checkpoint_db_, rc, "checkpointer");
    sqlite3_wal_hook(db_, &SqliteStore::OnWalCommit, this);
    checkpointer_ = std::thread([this] { RunCheckpointer(); });
    return Status::Ok();
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) {
      return Error(db_, sqlite3_extended_errcode(db_), sql);
    }
    return Status::Ok();
  }

  // Commits when `s` is ok, else rolls back; returns the first error.
  Status Finish(Status s) {
    if (s.ok()) {
      s = Exec("COMMIT");
      if (s.ok()) return s;
    }
    (void)Exec("ROLLBACK");
    return s;
  }

  Status Migrate() {
    WEFT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s = [&]() -> Status {
      WEFT_RETURN_IF_ERROR(
          Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
               "version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)"));
      Stmt q;
      WEFT_RETURN_IF_ERROR(q.Prepare(
          db_, "SELECT coalesce(max(version), 0) FROM schema_migrations"));
      std::int64_t have = 0;
      {
        Use u(q);
        auto row = u.Step();
        if (!row.ok()) return row.status();
        have = u.ColInt(0);
      }
      if (have > kSchemaVersion) {
        return Status::Corruption(
            "sqlite: " + options_.path + " has schema version " +
            std::to_string(have) + ", newer than this weft (" +
            std::to_string(kSchemaVersion) + "); upgrade weft");
      }
      if (!options_.migrate && have != kSchemaVersion) {
        return Status::FailedPrecondition(
            "sqlite: " + options_.path + " has schema version " +
            std::to_string(have) + "; this weft writes " +
            std::to_string(kSchemaVersion) +
            " and does not upgrade it here (use the weft of the server's "
            "version, or let weftd upgrade it first)");
      }
      Stmt rec;
      WEFT_RETURN_IF_ERROR(rec.Prepare(
          db_,
          "INSERT INTO schema_migrations (version, applied_ms) VALUES (?, ?)"));
      for (int v = static_cast<int>(have) + 1; v <= kSchemaVersion; ++v) {
        WEFT_RETURN_IF_ERROR(Exec(kMigrations[v - 1]));
        Use u(rec);
        u.Int(1, v).Int(2, NowMs());
        WEFT_RETURN_IF_ERROR(u.Run());
      }
      return Status::Ok();
    }();
    return Finish(s);
  }

  Status PrepareAll() {
    stmts_ = std::make_unique<Statements>();
    Statements& s = *stmts_;
    WEFT_RETURN_IF_ERROR(s.begin.Prepare(db_, "BEGIN IMMEDIATE"));
    WEFT_RETURN_IF_ERROR(s.commit.Prepare(db_, "COMMIT"));
    WEFT_RETURN_IF_ERROR(s.rollback.Prepare(db_, "ROLLBACK"));
    // The single writer numbers new ops from the document's last seq (read
    // once per document per group); the unique op id constraint turns a
    // retry into "no row inserted" (sqlite3_changes() == 0).
    WEFT_RETURN_IF_ERROR(s.insert_op.Prepare(
        db_,
        "INSERT INTO ops (doc_id, seq, client_id, local_seq, user_id, "
        "server_time_ms, parents, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (doc_id, client_id, local_seq) DO NOTHING"));
    WEFT_RETURN_IF_ERROR(s.find_op.Prepare(
        db_,
        "SELECT seq FROM ops WHERE doc_id = ? AND client_id = ? AND "
        "local_seq = ?"));
    WEFT_RETURN_IF_ERROR(s.writers.Prepare(
        db_,
        "SELECT client_id, user_id FROM ops INDEXED BY ops_first_of_client "
        "WHERE doc_id = ? AND local_seq = 0"));
    WEFT_RETURN_IF_ERROR(s.last_seq.Prepare(
        db_, "SELECT coalesce(max(seq), 0) FROM ops WHERE doc_id = ?"));
    WEFT_RETURN_IF_ERROR(s.read_ops.Prepare(
        db_,
        "SELECT seq, client_id, local_seq, user_id, server_time_ms, parents, "
        "payload FROM ops WHERE doc_id = ? AND seq > ? ORDER BY seq LIMIT ?"));
    WEFT_RETURN_IF_ERROR(s.save_snapshot.Prepare(
        db_,
        "INSERT INTO snapshots (doc_id, last_included_seq, created_ms, state) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (doc_id, last_included_seq) DO UPDATE "
        "SET created_ms = excluded.created_ms, state = excluded.state"));
    WEFT_RETURN_IF_ERROR(s.latest_snapshot.Prepare(
        db_,
        "SELECT last_included_seq, created_ms, state FROM snapshots WHERE "
        "doc_id = ? ORDER BY last_included_seq DESC LIMIT 1"));
    WEFT_RETURN_IF_ERROR(s.has_snapshot.Prepare(
        db_,
        "SELECT 1 FROM snapshots WHERE doc_id = ? AND last_included_seq = ?"));
    WEFT_RETURN_IF_ERROR(s.compact_ops.Prepare(
        db_,
        "UPDATE ops SET payload = NULL, parents = NULL WHERE doc_id = ? AND "
        "seq <= ? AND payload IS NOT NULL"));
    WEFT_RETURN_IF_ERROR(s.drop_old_snapshots.Prepare(
        db_,
        "DELETE FROM snapshots WHERE doc_id = ? AND last_included_seq < ?"));
    WEFT_RETURN_IF_ERROR(s.count_compacted_after.Prepare(
        db_,
        "SELECT count(*) FROM ops WHERE doc_id = ? AND seq > ? AND payload IS "
        "NULL"));
    WEFT_RETURN_IF_ERROR(s.dump_ops.Prepare(
        db_,
        "SELECT seq, client_id, local_seq, user_id, server_time_ms, parents, "
        "payload FROM ops WHERE doc_id = ? ORDER BY seq"));
    WEFT_RETURN_IF_ERROR(s.import_op.Prepare(
        db_,
        "INSERT INTO ops (doc_id, seq, client_id, local_seq, user_id, "
        "server_time_ms, parents, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    WEFT_RETURN_IF_ERROR(s.list_docs.Prepare(
        db_,
        "SELECT doc_id FROM ops GROUP BY doc_id UNION SELECT doc_id FROM "
        "snapshots ORDER BY 1"));
    return Status::Ok();
  }

  Result<std::int64_t> LastSeqLocked(std::string_view doc_id) {
    Use u(stmts_->last_seq);
    u.Text(1, doc_id);
    auto row = u.Step();
    if (!row.ok()) return row.status();
    return u.ColInt(0);
  }

  Result<Snapshot> LatestSnapshotLocked(std::string_view doc_id) {
    Use u(stmts_->latest_snapshot);
    u.Text(1, doc_id);
    auto row = u.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("no snapshot of " + std::string(doc_id));
    return Snapshot{std::string(doc_id), u.ColInt(0), u.ColInt(1),
                    u.ColText(2)};
  }

  Result<std::vector<StoredOp>> ReadOpsLocked(std::string_view doc_id,
                                              std::int64_t after_seq,
                                              std::size_t limit,
                                              bool compacted_is_corrupt) {
    Use u(stmts_->read_ops);
    u.Text(1, doc_id)
        .Int(2, after_seq)
        .Int(3, limit == 0 ? -1 : static_cast<std::int64_t>(limit));
    std::vector<StoredOp> out;
    for (;;) {
      auto row = u.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      if (u.ColNull(6)) {
        std::string what = "op " + std::to_string(u.ColInt(0)) + " of " +
                           std::string(doc_id) + " was compacted";
        if (compacted_is_corrupt) {
          return Status::Corruption(what + " but is after the latest snapshot");
        }
        return Status::FailedPrecondition(what + "; load the snapshot");
      }
      StoredOp op;
      op.seq = u.ColInt(0);
      op.id.client_id = static_cast<std::uint64_t>(u.ColInt(1));
      op.id.local_seq = static_cast<std::uint64_t>(u.ColInt(2));
      op.user_id = u.ColText(3);
      op.server_time_ms = u.ColInt(4);
      op.parents = u.ColText(5);
      op.payload = u.ColText(6);
      out.push_back(std::move(op));
    }
  }

  // One request inside the group transaction. `last` caches the last seq
  // per document for this transaction.
  Result<AppendResult> WriteRequest(
      const AppendRequest& req,
      std::map<std::string_view, std::int64_t>& last) {
    AppendResult r;
    r.seqs.reserve(req.ops.size());
    r.duplicate.reserve(req.ops.size());
    auto at = last.find(req.doc_id);
    if (at == last.end()) {
      auto l = LastSeqLocked(req.doc_id);
      if (!l.ok()) return l.status();
      at = last.emplace(req.doc_id, *l).first;
    }
    std::int64_t& doc_last = at->second;
    for (const NewOp& op : req.ops) {
      bool inserted = false;
      std::int64_t seq = 0;
      {
        Use u(stmts_->insert_op);
        u.Text(1, req.doc_id)
            .Int(2, doc_last + 1)
            .U64(3, op.id.client_id)
            .U64(4, op.id.local_seq)
            .Text(5, op.user_id)
            .Int(6, op.server_time_ms)
            .Blob(7, op.parents)
            .Blob(8, op.payload);
        WEFT_RETURN_IF_ERROR(u.Run());
        if (sqlite3_changes(db_) == 1) {
          inserted = true;
          seq = ++doc_last;
        }
      }
      if (!inserted) {
        Use u(stmts_->find_op);
        u.Text(1, req.doc_id).U64(2, op.id.client_id).U64(3, op.id.local_seq);
        auto row = u.Step();
        if (!row.ok()) return row.status();
        if (!*row) {
          return Status::Internal("op id conflict but no stored op found");
        }
        seq = u.ColInt(0);
      } else {
        if (r.new_count == 0) r.first_new_seq = seq;
        ++r.new_count;
      }
      r.seqs.push_back(seq);
      r.duplicate.push_back(!inserted);
    }
    r.last_seq = doc_last;
    return r;
  }

  // Runs `group` in one transaction and commits it (one fsync). If a
  // request fails, the transaction is rolled back and each request is
  // retried in a transaction of its own, so that it fails alone.
  Result<std::vector<Result<AppendResult>>> WriteGroup(
      std::span<AppendRequest> group) {
    std::lock_guard<std::mutex> lock(mu_);
    auto results = WriteGroupLocked(group);
    if (!results.ok() || group.size() == 1) return results;
    bool all_ok = std::all_of(results->begin(), results->end(),
                              [](const auto& r) { return r.ok(); });
    if (all_ok) return results;
    std::vector<Result<AppendResult>> each;
    for (std::size_t i = 0; i < group.size(); ++i) {
      auto r = WriteGroupLocked(group.subspan(i, 1));
      if (r.ok()) {
        each.push_back(std::move((*r)[0]));
      } else {
        each.push_back(r.status());
      }
    }
    return each;
  }

  // Commits only when every request succeeded; otherwise rolls back and
  // returns the per-request results (the ok ones were not stored).
  Result<std::vector<Result<AppendResult>>> WriteGroupLocked(
      std::span<AppendRequest> group) {
    if (sync_failed_.load(std::memory_order_acquire)) {
      return Status::Unavailable(
          "sqlite: a WAL fsync failed earlier; the store takes no more "
          "writes until it is reopened");
    }
    {
      Use u(stmts_->begin);
      WEFT_RETURN_IF_ERROR(u.Run());
    }
    std::vector<Result<AppendResult>> results;
    results.reserve(group.size());
    std::map<std::string_view, std::int64_t> last;
    bool failed = false;
    for (const AppendRequest& req : group) {
      if (failed) {
        results.push_back(Status::Aborted("not attempted"));
        continue;
      }
      results.push_back(WriteRequest(req, last));
      failed = !results.back().ok();
    }
    Status c;
    if (!failed) {
      // The fsync is put off to SyncCommits (on the completer thread,
      // before any callback of this group), so that the next group is built
      // while it runs.
      std::optional<DeferWalSyncs> defer;
      if (defer_sync_) defer.emplace(&deferred_);
      Use u(stmts_->commit);
      c = u.Run();
      defer.reset();
      if (c.ok() && defer_sync_) {
        deferred_commits_.fetch_add(1, std::memory_order_release);
      }
    }
    if (failed || !c.ok()) {
      Use u(stmts_->rollback);
      (void)u.Run();
      if (!c.ok()) return c;
      if (group.size() == 1) return results;
      // The caller retries one by one; the failed one keeps its error.
      return results;
    }
    MaybeCheckpoint();
    return results;
  }

  // After a commit, with mu_ held. SQLite rewinds the WAL to its start only
  // when a write transaction begins with every frame already copied into
  // the database; the background checkpointer never gets there while
  // commits keep coming (each one appends frames while it copies), so the
  // WAL would grow without bound, every commit extending the file (block
  // allocation and an inode update in each fsync). So the background
  // thread copies the bulk of the WAL, and then the writer copies the few
  // frames committed meanwhile itself, between two groups: the next group
  // starts the WAL afresh and overwrites blocks already allocated.
  void MaybeCheckpoint() {
    const int pages = wal_frames_;
    // Fewer frames than after the last commit: the WAL started again, and
    // what the background thread reported is about the old one.
    if (pages < wal_frames_before_) {
      generation_.fetch_add(1, std::memory_order_relaxed);
    }
    wal_frames_before_ = pages;
    if (pages < options_.wal_checkpoint_pages) return;
    std::uint64_t report = backfilled_.load(std::memory_order_relaxed);
    auto copied = static_cast<int>(report & 0xffffffffu);
    if ((report >> 32) != generation_.load(std::memory_order_relaxed) ||
        copied == 0 || copied > pages || pages - copied > TailPages()) {
      checkpoint_cv_.notify_one();
      return;
    }
    // SQLITE_BUSY (the background thread is checkpointing) or a partial
    // copy: again after the next commit.
    (void)sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                    nullptr, nullptr);
  }

  // The background checkpointer: copies the WAL into the database file on
  // its own connection (PASSIVE: never blocks the writer), so that commits
  // do not pay for copying all of it (see MaybeCheckpoint).
  void RunCheckpointer() {
    std::unique_lock<std::mutex> lock(checkpoint_mu_);
    for (;;) {
      checkpoint_cv_.wait(lock, [this] {
        return stopping_ || wal_pages_.load(std::memory_order_relaxed) >=
                                options_.wal_checkpoint_pages;
      });
      if (stopping_) return;
      lock.unlock();
      int log = 0, done = 0;
      std::uint64_t generation = generation_.load(std::memory_order_relaxed);
      if (sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr,
                                    SQLITE_CHECKPOINT_PASSIVE, &log,
                                    &done) == SQLITE_OK) {
        backfilled_.store((generation << 32) | static_cast<std::uint32_t>(done),
                          std::memory_order_relaxed);
      }
      // Until the next commit reports the WAL size again.
      wal_pages_.store(0, std::memory_order_relaxed);
      lock.lock();
    }
  }

  // Makes every commit whose WAL sync was deferred durable: one fsync for
  // all of them. Readers call it (with mu_ held) before they read, so that
  // nothing is read back, and so sent to anyone, before it is durable. A
  // failed fsync leaves the store refusing writes (after a failed fsync the
  // kernel may have dropped the pages and a later fsync would not say so).
  Status SyncCommits() {
    if (!defer_sync_) return Status::Ok();
    std::lock_guard<std::mutex> lock(sync_mu_);
    if (!sync_error_.ok()) return sync_error_;
    std::uint64_t target = deferred_commits_.load(std::memory_order_acquire);
    if (synced_commits_ >= target) return Status::Ok();
    int rc = SyncDeferredWal(deferred_);
    if (rc != SQLITE_OK) {
      sync_error_ = Status::Unavailable(
          "sqlite: fsync of the WAL of " + options_.path + " failed (" +
          sqlite3_errstr(rc) +
          "); the store takes no more writes until it is reopened");
      sync_failed_.store(true, std::memory_order_release);
      return sync_error_;
    }
    synced_commits_ = target;
    return Status::Ok();
  }

  // Runs in each commit on db_, so with mu_ held.
  static int OnWalCommit(void* self, sqlite3*, const char*, int pages) {
    auto* store = static_cast<SqliteStore*>(self);
    store->wal_frames_ = pages;
    store->wal_pages_.store(pages, std::memory_order_relaxed);
    return SQLITE_OK;
  }

  // The most frames the writer copies itself after a background checkpoint
  // (a quarter of the WAL it lets grow, at most 512: the copy and the
  // database fsync that follows it delay the next group); a longer tail
  // sends the background thread round again.
  int TailPages() const {
    return std::min(options_.wal_checkpoint_pages / 4 + 1, 512);
  }

  SqliteOptions options_;
  std::string vfs_;  // the VFS both connections use
  // Deferred WAL syncs (SqliteOptions::defer_wal_sync): the committer counts
  // its commits in deferred_commits_ after each returns; SyncCommits syncs
  // the WAL file recorded in deferred_ and so covers every commit counted.
  bool defer_sync_ = false;
  DeferredWalSync deferred_;
  std::atomic<std::uint64_t> deferred_commits_{0};
  std::atomic<bool> sync_failed_{false};
  std::mutex sync_mu_;
  std::uint64_t synced_commits_ = 0;  // guarded by sync_mu_
  Status sync_error_;                 // guarded by sync_mu_
  std::mutex mu_;                     // guards db_ and stmts_ use
  sqlite3* db_ = nullptr;
  sqlite3* checkpoint_db_ = nullptr;  // used by the checkpointer thread only
  // The WAL's frames after the last commit, for the checkpointer thread's
  // wake-up (it sets it to 0 after a run).
  std::atomic<int> wal_pages_{0};
  int wal_frames_ = 0;         // the same, guarded by mu_
  int wal_frames_before_ = 0;  // guarded by mu_: at the previous commit
  // How often the WAL started again; the background checkpointer tags its
  // reports with it.
  std::atomic<std::uint64_t> generation_{0};
  // The background checkpointer's last report: generation << 32 | frames
  // it found copied (its own and earlier runs').
  std::atomic<std::uint64_t> backfilled_{0};
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool stopping_ = false;  // guarded by checkpoint_mu_
  std::thread checkpointer_;
  std::unique_ptr<Statements> stmts_;
  std::unique_ptr<SqliteMetadata> metadata_;
  std::unique_ptr<GroupCommitter> committer_;
};

}  // namespace

int SqliteSchemaVersion() { return kSchemaVersion; }

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  auto store = std::make_unique<SqliteStore>();
  WEFT_RETURN_IF_ERROR(store->Open(options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace weft::store
