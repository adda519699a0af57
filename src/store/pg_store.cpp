#include "store/pg_store.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>
#include <utility>

#include "store/group_commit.h"
#include "store/pg_metadata.h"
#include "store/pg_pool.h"
#include "store/pg_statements.h"

namespace weft::store {
namespace {

using pg::Params;
using pg::Res;

// Append-only: a released migration is never edited (docs/storage.md).
const char* const kMigrations[] = {
    // 1: the operation log and snapshots.
    R"sql(
CREATE TABLE ops (
  doc_id         text   NOT NULL,
  seq            bigint NOT NULL,
  client_id      bigint NOT NULL,
  local_seq      bigint NOT NULL,
  user_id        text   NOT NULL,
  server_time_ms bigint NOT NULL,
  parents        bytea,
  payload        bytea,
  PRIMARY KEY (doc_id, seq),
  UNIQUE (doc_id, client_id, local_seq)
);
CREATE TABLE snapshots (
  doc_id            text   NOT NULL,
  last_included_seq bigint NOT NULL,
  created_ms        bigint NOT NULL,
  state             bytea  NOT NULL,
  PRIMARY KEY (doc_id, last_included_seq)
);
)sql",
    // 2: account metadata (pg_metadata.cpp).
    kPgMetadataSchema,
    // 3: who each client id belongs to: the user of its first op.
    R"sql(
CREATE INDEX ops_first_of_client ON ops (doc_id, client_id, user_id)
  WHERE local_seq = 0;
)sql",
    // 4: refresh families remember the password version they started
    // under and the token before the current one.
    R"sql(
ALTER TABLE refresh_token_families ADD COLUMN token_version bigint NOT NULL
  DEFAULT 0;
ALTER TABLE refresh_token_families ADD COLUMN prev_token_hash text NOT NULL
  DEFAULT '';
)sql",  // 5: the access change feed (MetadataStore::RecordAccessChange).
    R"sql(
CREATE TABLE access_changes (
  id      bigserial PRIMARY KEY,
  user_id text   NOT NULL,
  at_ms   bigint NOT NULL
);
CREATE INDEX access_changes_at ON access_changes (at_ms);
)sql",
    // 6: users keep their token version (store::TokenVersion), so that a
    // rehash of the same password does not end their sessions.
    R"sql(
ALTER TABLE users ADD COLUMN token_version bigint NOT NULL DEFAULT 0;
)sql",
};
constexpr int kSchemaVersion =
    static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));
// pg_advisory_xact_lock key that serialises migrations across servers.
constexpr std::int64_t kMigrationLock = 0x77656674'00000001;  // "weft", 1

// Every data statement, prepared on each connection.
const std::vector<pg::StatementDef>& Statements() {
  static const std::vector<pg::StatementDef> kStatements = {
      // Read committed whatever default_transaction_isolation says: the
      // writers take advisory locks and then read the last seqs, which
      // must see what the lock's previous holder committed (a repeatable
      // read snapshot is taken by the first statement, before the lock).
      {"begin", "BEGIN ISOLATION LEVEL READ COMMITTED"},
      {"begin_ro", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"},
      {"commit", "COMMIT"},
      // The pool plans every statement at each execution. The
      // one-round-trip group's statements read no table through a planned
      // path (advisory locks, inserts checked by their unique indexes), so
      // they keep a cached plan for their transaction.
      {"cached_plans", "SELECT set_config('plan_cache_mode', 'auto', true)"},
      {"rollback", "ROLLBACK"},
      {"lock_doc",
       "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))"},
      // Group commit (WriteGroupBatched): the documents' locks in the order
      // given, their last seqs, the op ids already stored, then every new op
      // in one insert. The locks use lock_doc's keys.
      {"lock_docs",
       "SELECT count(pg_advisory_xact_lock(hashtextextended(d, 0)))"
       " FROM (SELECT d FROM unnest($1::text[]) WITH ORDINALITY AS t(d, i)"
       " ORDER BY i) AS s"},
      {"last_seqs",
       "SELECT coalesce((SELECT max(seq) FROM ops WHERE doc_id = t.d), 0)"
       "::bigint FROM unnest($1::text[]) WITH ORDINALITY AS t(d, i)"
       " ORDER BY t.i"},
      // A subquery per op rather than a join: one probe of the op-id index
      // per op with the statistics of a grown table. (Like last_seqs it is
      // planned at each execution, see the pool; both run only when the
      // committer does not know a document's last seq, see probe_heads.)
      {"find_ops",
       "SELECT (SELECT o.seq FROM ops o WHERE o.doc_id = t.d AND"
       " o.client_id = t.c AND o.local_seq = t.l) FROM unnest($1::text[],"
       " $2::bigint[], $3::bigint[]) WITH ORDINALITY AS t(d, c, l, i)"
       " ORDER BY t.i"},
      {"insert_ops",
       "INSERT INTO ops (doc_id, seq, client_id, local_seq, user_id,"
       " server_time_ms, parents, payload) SELECT * FROM unnest($1::text[],"
       " $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[],"
       " $7::bytea[], $8::bytea[])"},
      // The one-round-trip group's check of the remembered last seqs
      // (WriteGroupBatched): a row (doc_id, last) per document, written
      // only if that seq is missing, with the op id of the document's
      // first new op, which the group's insert then collides with. An
      // arbiter-index check, not a planned query: no plan cached while the
      // table was small can turn it into a scan.
      {"probe_heads",
       "INSERT INTO ops (doc_id, seq, client_id, local_seq, user_id,"
       " server_time_ms) SELECT d, s, c, l, '', 0 FROM unnest($1::text[],"
       " $2::bigint[], $3::bigint[], $4::bigint[]) AS t(d, s, c, l)"
       " ON CONFLICT (doc_id, seq) DO NOTHING"},
      {"find_op",
       "SELECT seq FROM ops WHERE doc_id = $1::text AND client_id = $2::bigint"
       " AND local_seq = $3::bigint"},
      {"last_seq",
       "SELECT coalesce(max(seq), 0)::bigint FROM ops WHERE doc_id = $1::text"},
      {"writers",
       "SELECT client_id, user_id FROM ops WHERE doc_id = $1::text"
       " AND local_seq = 0"},
      {"read_ops",
       "SELECT seq, client_id, local_seq, user_id, server_time_ms, parents,"
       " payload FROM ops WHERE doc_id = $1::text AND seq > $2::bigint"
       " ORDER BY seq LIMIT $3::bigint"},
      {"save_snapshot",
       "INSERT INTO snapshots (doc_id, last_included_seq, created_ms, state)"
       " VALUES ($1::text, $2::bigint, $3::bigint, $4::bytea)"
       " ON CONFLICT (doc_id, last_included_seq) DO UPDATE"
       " SET created_ms = excluded.created_ms, state = excluded.state"},
      {"latest_snapshot",
       "SELECT last_included_seq, created_ms, state FROM snapshots"
       " WHERE doc_id = $1::text ORDER BY last_included_seq DESC LIMIT 1"},
      {"has_snapshot",
       "SELECT 1 FROM snapshots WHERE doc_id = $1::text AND"
       " last_included_seq = $2::bigint"},
      {"delete_doc_ops", "DELETE FROM ops WHERE doc_id = $1::text"},
      {"delete_doc_snapshots", "DELETE FROM snapshots WHERE doc_id = $1::text"},
      {"compact_ops",
       "UPDATE ops SET payload = NULL, parents = NULL WHERE doc_id = $1::text"
       " AND seq <= $2::bigint AND payload IS NOT NULL"},
      {"drop_old_snapshots",
       "DELETE FROM snapshots WHERE doc_id = $1::text AND"
       " last_included_seq < $2::bigint"},
      {"count_compacted_after",
       "SELECT count(*)::bigint FROM ops WHERE doc_id = $1::text AND"
       " seq > $2::bigint AND payload IS NULL"},
      {"ops_shape",
       "SELECT doc_id, count(*)::bigint, min(seq), max(seq),"
       " (count(*) - count(payload))::bigint FROM ops"
       " GROUP BY doc_id ORDER BY doc_id COLLATE \"C\""},
      {"snapshot_docs",
       "SELECT DISTINCT doc_id COLLATE \"C\" FROM snapshots ORDER BY 1"},
      {"dump_ops",
       "SELECT seq, client_id, local_seq, user_id, server_time_ms, parents,"
       " payload FROM ops WHERE doc_id = $1::text ORDER BY seq"},
      {"import_op",
       "INSERT INTO ops (doc_id, seq, client_id, local_seq, user_id,"
       " server_time_ms, parents, payload) VALUES ($1::text, $2::bigint,"
       " $3::bigint, $4::bigint, $5::text, $6::bigint, $7::bytea, $8::bytea)"},
      {"list_docs",
       "SELECT doc_id FROM (SELECT doc_id FROM ops GROUP BY doc_id UNION"
       " SELECT doc_id FROM snapshots) d ORDER BY doc_id COLLATE \"C\""},
  };
  return kStatements;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Rolls back (if a transaction is open) when it goes out of scope without
// Commit().
class Txn {
 public:
  Txn(pg::Conn& c) : c_(c) {}
  ~Txn() {
    if (open_) (void)c_.Exec("rollback");
  }
  Status Begin(const char* stmt = "begin") {
    auto r = c_.Exec(stmt);
    if (!r.ok()) return r.status();
    open_ = true;
    return Status::Ok();
  }
  Status Commit() {
    open_ = false;
    auto r = c_.Exec("commit");
    return r.ok() ? Status::Ok() : r.status();
  }

 private:
  pg::Conn& c_;
  bool open_ = false;
};

class PgStore final : public Store {
 public:
  explicit PgStore(const PgOptions& options)
      : options_(options),
        pool_(options.conninfo, std::max<std::size_t>(options.pool_size, 2),
              options.connect_timeout_ms, PgStatements(),
              options.acquire_timeout_ms),
        metadata_(&pool_) {}
  ~PgStore() override {
    if (committer_) committer_->Stop();
  }

  Status Open() {
    WEFT_RETURN_IF_ERROR(Migrate());
    if (options_.verify_on_open) {
      WEFT_RETURN_IF_ERROR(Verify(options_.validator));
    }
    committer_ = std::make_unique<GroupCommitter>(
        [this](std::span<AppendRequest> g) { return WriteGroup(g); },
        GroupCommitter::Options{
            options_.max_group_ops, options_.on_commit, {}});
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
    auto c = pool_.Acquire();
    if (!c.ok()) return c.status();
    return ReadOpsOn(*c, doc_id, after_seq, limit, false);
  }

  Result<std::int64_t> LastSeq(std::string_view doc_id) override {
    auto c = pool_.Acquire();
    if (!c.ok()) return c.status();
    return LastSeqOn(*c, doc_id);
  }

  Result<std::int64_t> FindOp(std::string_view doc_id, OpId id) override {
    auto c = pool_.Acquire();
    if (!c.ok()) return c.status();
    auto r = c->Exec("find_op",
                     Params().Text(doc_id).U64(id.client_id).U64(id.local_seq));
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return Status::NotFound("op id not stored");
    return r->Int(0, 0);
  }

  Status SaveSnapshot(const Snapshot& snapshot) override {
    auto c = pool_.Acquire();
    if (!c.ok()) return c.status();
    Txn txn(*c);
    WEFT_RETURN_IF_ERROR(txn.Begin());
    auto lock = c->Exec("lock_doc", Params().Text(snapshot.doc_id));
    if (!lock.ok()) return lock.status();
    auto last = LastSeqOn(*c, snapshot.doc_id);
    if (!last.ok()) return last.status();
    if (snapshot.last_included_seq <= 0 || snapshot.last_included_seq > *last) {
      return Status::InvalidArgument(
          "snapshot seq " + std::to_string(snapshot.last_included_seq) +
          " outside the log of " + snapshot.doc_id + " (1.." +
          std::to_string(*last) + ")");
    }
    auto r = c->Exec("save_snapshot", Params()
                                          .Text(snapshot.doc_id)
                                          .Int(snapshot.last_included_seq)
                                          .Int(snapshot.created_ms)
                                          .Bytes(snapshot.state));
    if (!r.ok()) return r.status();
    return txn.Commit();
  }

  Result<Snapshot> LatestSnapshot(std::string_view doc_id) override {
    auto c = pool_.Acquire();
    if (!c.ok()) return c.status();
    return LatestSnapshotOn(*c, doc_id);
  }

  Result<LoadedDocument> LoadDocument(std::string_view doc_id) override {
    auto c = pool_.Acquire();
    if (!c.ok()) return c.status();
    Txn txn(*c);  // one consistent view
    WEFT_RETURN_IF_ERROR(txn.Begin("begin_ro"));
    LoadedDocument out;
    auto last = LastSeqOn(*c, doc_id);
    if (!last.ok()) return last.status();
    out.last_seq = *last;
    std::int64_t from = 0;
    auto snap = LatestSnapshotOn(*c, doc_id);
    if (snap.ok()) {
      from = snap->last_included_seq;
      out.snapshot = std::move(*snap);
    } else if (snap.status().code() != StatusCode::kNotFound) {
      return snap.status();
    }
    if (!out.snapshot && out.last_seq == 0) {
      return Status::NotFound("no document " + std::string(doc_id));
    }
    auto ops = ReadOpsOn(*c, doc_id, from, 0, true);
    if (!ops.ok()) return ops.status();
    out.ops = std::move(*ops);
    auto writers = c->Exec("writers", Params().Text(doc_id));
    if (!writers.ok()) return writers.status();
    out.writers.reserve(static_cast<std::size_t>(writers->rows()));
    for (int i = 0; i < writers->rows(); ++i) {
      out.writers.push_back(
          Writer{static_cast<std::uint64_t>(writers->Int(i, 0)),
                 writers->Bytes(i, 1)});
    }
    WEFT_RETURN_IF_ERROR(txn.Commit());
    return out;
  }

  Status DeleteDocument(std::string_view doc_id) override {
    auto c = pool_.Acquire();
    if (!c.ok()) return c.status();
    Txn txn(*c);
    WEFT_RETURN_IF_ERROR(txn.Begin());
    auto lock = c->Exec("lock_doc", Params().Text(doc_id));
    if (!lock.ok()) return lock.status();
    auto a = c->Exec("delete_doc_ops", Params().Text(doc_id));
    if (!a.ok()) return a.status();
    auto b = c->Exec("delete_doc_snapshots", Params().Text(doc_id));
    if (!b.ok()) return b.status();
    return txn.Commit();
  }

  Status Compact(std::string_view doc_id, std::int64_t through_seq) override {
    auto c = pool_.Acquire();
    if (!c.ok()) return c.status();
    Txn txn(*c);
    WEFT_RETURN_IF_ERROR(txn.Begin());
    auto has = c->Exec("has_snapshot", Params().Text(doc_id).Int(through_seq));
    if (!has.ok()) return has.status();
    if (has->rows() == 0) {
      return Status::FailedPrecondition(
          "no snapshot of " + std::string(doc_id) + " at seq " +
          std::to_string(through_seq) + " to compact up to");
    }
    auto a = c->Exec("compact_ops", Params().Text(doc_id).Int(through_seq));
    if (!a.ok()) return a.status();
    auto b =
        c->Exec("drop_old_snapshots", Params().Text(doc_id).Int(through_seq));
    if (!b.ok()) return b.status();
    return txn.Commit();
  }

  Status Verify(const SnapshotValidator& validator) override {
    auto c = pool_.Acquire();
    if (!c.ok()) return c.status();
    Txn txn(*c);
    WEFT_RETURN_IF_ERROR(txn.Begin("begin_ro"));
    auto shape = c->Exec("ops_shape");
    if (!shape.ok()) return shape.status();
    for (int i = 0; i < shape->rows(); ++i) {
      std::string doc = shape->Bytes(i, 0);
      std::int64_t n = shape->Int(i, 1), lo = shape->Int(i, 2),
                   hi = shape->Int(i, 3);
      if (lo != 1 || hi != n) {
        return Status::Corruption(
            "document " + doc + ": seqs not contiguous (" + std::to_string(n) +
            " ops, seq " + std::to_string(lo) + ".." + std::to_string(hi) +
            ")");
      }
      if (shape->Int(i, 4) > 0) {
        auto snap = LatestSnapshotOn(*c, doc);
        if (!snap.ok()) return CompactedWithoutSnapshot(doc, snap.status());
      }
    }
    auto docs = c->Exec("snapshot_docs");
    if (!docs.ok()) return docs.status();
    for (int i = 0; i < docs->rows(); ++i) {
      std::string doc = docs->Bytes(i, 0);
      auto snap = LatestSnapshotOn(*c, doc);
      if (!snap.ok()) return snap.status();
      auto last = LastSeqOn(*c, doc);
      if (!last.ok()) return last.status();
      if (snap->last_included_seq > *last) {
        return Status::Corruption(
            "document " + doc + ": latest snapshot at seq " +
            std::to_string(snap->last_included_seq) + " is past the log (" +
            std::to_string(*last) + ")");
      }
      auto cnt = c->Exec("count_compacted_after",
                         Params().Text(doc).Int(snap->last_included_seq));
      if (!cnt.ok()) return cnt.status();
      if (cnt->Int(0, 0) != 0) {
        return Status::Corruption(
            "document " + doc +
            ": ops after the latest snapshot are compacted");
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
    return txn.Commit();
  }

  Result<DocumentDump> ExportDocument(std::string_view doc_id) override {
    auto c = pool_.Acquire();
    if (!c.ok()) return c.status();
    Txn txn(*c);  // one consistent view
    WEFT_RETURN_IF_ERROR(txn.Begin("begin_ro"));
    auto r = c->Exec("dump_ops", Params().Text(doc_id));
    if (!r.ok()) return r.status();
    DocumentDump dump;
    dump.doc_id = std::string(doc_id);
    for (int i = 0; i < r->rows(); ++i) {
      StoredOp op;
      op.seq = r->Int(i, 0);
      op.id.client_id = static_cast<std::uint64_t>(r->Int(i, 1));
      op.id.local_seq = static_cast<std::uint64_t>(r->Int(i, 2));
      op.user_id = r->Bytes(i, 3);
      op.server_time_ms = r->Int(i, 4);
      op.parents = r->Bytes(i, 5);
      op.payload = r->Bytes(i, 6);
      dump.compacted.push_back(r->IsNull(i, 6));
      dump.ops.push_back(std::move(op));
    }
    auto snap = LatestSnapshotOn(*c, doc_id);
    if (snap.ok()) {
      dump.snapshot = std::move(*snap);
    } else if (snap.status().code() != StatusCode::kNotFound) {
      return snap.status();
    }
    WEFT_RETURN_IF_ERROR(txn.Commit());
    if (dump.ops.empty() && !dump.snapshot) {
      return Status::NotFound("no document " + std::string(doc_id));
    }
    return dump;
  }

  Status ImportDocument(const DocumentDump& dump) override {
    WEFT_RETURN_IF_ERROR(CheckDocumentDump(dump));
    auto c = pool_.Acquire();
    if (!c.ok()) return c.status();
    Txn txn(*c);
    WEFT_RETURN_IF_ERROR(txn.Begin());
    auto lock = c->Exec("lock_doc", Params().Text(dump.doc_id));
    if (!lock.ok()) return lock.status();
    auto last = LastSeqOn(*c, dump.doc_id);
    if (!last.ok()) return last.status();
    auto snap = LatestSnapshotOn(*c, dump.doc_id);
    if (*last != 0 || snap.ok()) {
      return Status::AlreadyExists("document " + dump.doc_id + " exists");
    }
    for (std::size_t i = 0; i < dump.ops.size(); ++i) {
      const StoredOp& op = dump.ops[i];
      Params p;
      p.Text(dump.doc_id)
          .Int(op.seq)
          .U64(op.id.client_id)
          .U64(op.id.local_seq)
          .Text(op.user_id)
          .Int(op.server_time_ms);
      if (dump.compacted[i]) {
        p.Null().Null();
      } else {
        p.Bytes(op.parents).Bytes(op.payload);
      }
      auto r = c->Exec("import_op", p);
      if (!r.ok()) return r.status();
    }
    if (dump.snapshot) {
      auto r =
          c->Exec("save_snapshot", Params()
                                       .Text(dump.doc_id)
                                       .Int(dump.snapshot->last_included_seq)
                                       .Int(dump.snapshot->created_ms)
                                       .Bytes(dump.snapshot->state));
      if (!r.ok()) return r.status();
    }
    return txn.Commit();
  }

  MetadataStore& metadata() override { return metadata_; }

  Result<std::vector<std::string>> ListDocumentIds() override {
    auto c = pool_.Acquire();
    if (!c.ok()) return c.status();
    auto r = c->Exec("list_docs");
    if (!r.ok()) return r.status();
    std::vector<std::string> out;
    for (int i = 0; i < r->rows(); ++i) out.push_back(r->Bytes(i, 0));
    return out;
  }

 private:
  Status Migrate() {
    // A pool without prepared statements: the tables may not exist yet.
    pg::Pool raw(options_.conninfo, 1, options_.connect_timeout_ms, {});
    auto c = raw.Acquire();
    if (!c.ok()) return c.status();
    WEFT_RETURN_IF_ERROR(c->ExecScript("BEGIN"));
    Status s = [&]() -> Status {
      WEFT_RETURN_IF_ERROR(c->ExecScript("SELECT pg_advisory_xact_lock(" +
                                         std::to_string(kMigrationLock) + ")"));
      WEFT_RETURN_IF_ERROR(c->ExecScript(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          "version int PRIMARY KEY, applied_ms bigint NOT NULL)"));
      Res r(PQexec(c->get(),
                   "SELECT coalesce(max(version), 0) FROM schema_migrations"));
      if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
        return pg::ErrorOf(c->get(), r.get(), "read schema version");
      }
      int have = std::atoi(PQgetvalue(r.get(), 0, 0));
      if (have > kSchemaVersion) {
        return Status::Corruption(
            "postgres: database has schema version " + std::to_string(have) +
            ", newer than this weft (" + std::to_string(kSchemaVersion) +
            "); upgrade weft");
      }
      if (!options_.migrate && have != kSchemaVersion) {
        return Status::FailedPrecondition(
            "postgres: database has schema version " + std::to_string(have) +
            "; this weft writes " + std::to_string(kSchemaVersion) +
            " and does not upgrade it here (use the weft of the server's "
            "version, or let weftd upgrade it first)");
      }
      for (int v = have + 1; v <= kSchemaVersion; ++v) {
        WEFT_RETURN_IF_ERROR(c->ExecScript(kMigrations[v - 1]));
        WEFT_RETURN_IF_ERROR(c->ExecScript(
            "INSERT INTO schema_migrations (version, applied_ms) VALUES (" +
            std::to_string(v) + ", " + std::to_string(NowMs()) + ")"));
      }
      return Status::Ok();
    }();
    if (!s.ok()) {
      (void)c->ExecScript("ROLLBACK");
      return s;
    }
    return c->ExecScript("COMMIT");
  }

  Result<std::int64_t> LastSeqOn(pg::Conn& c, std::string_view doc_id) {
    auto r = c.Exec("last_seq", Params().Text(doc_id));
    if (!r.ok()) return r.status();
    return r->Int(0, 0);
  }

  Result<Snapshot> LatestSnapshotOn(pg::Conn& c, std::string_view doc_id) {
    auto r = c.Exec("latest_snapshot", Params().Text(doc_id));
    if (!r.ok()) return r.status();
    if (r->rows() == 0) {
      return Status::NotFound("no snapshot of " + std::string(doc_id));
    }
    return Snapshot{std::string(doc_id), r->Int(0, 0), r->Int(0, 1),
                    r->Bytes(0, 2)};
  }

  Result<std::vector<StoredOp>> ReadOpsOn(pg::Conn& c, std::string_view doc_id,
                                          std::int64_t after_seq,
                                          std::size_t limit,
                                          bool compacted_is_corrupt) {
    auto r =
        c.Exec("read_ops",
               Params().Text(doc_id).Int(after_seq).Int(
                   limit == 0 ? INT64_MAX : static_cast<std::int64_t>(limit)));
    if (!r.ok()) return r.status();
    std::vector<StoredOp> out;
    out.reserve(static_cast<std::size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i) {
      if (r->IsNull(i, 6)) {
        std::string what = "op " + std::to_string(r->Int(i, 0)) + " of " +
                           std::string(doc_id) + " was compacted";
        if (compacted_is_corrupt) {
          return Status::Corruption(what + " but is after the latest snapshot");
        }
        return Status::FailedPrecondition(what + "; load the snapshot");
      }
      StoredOp op;
      op.seq = r->Int(i, 0);
      op.id.client_id = static_cast<std::uint64_t>(r->Int(i, 1));
      op.id.local_seq = static_cast<std::uint64_t>(r->Int(i, 2));
      op.user_id = r->Bytes(i, 3);
      op.server_time_ms = r->Int(i, 4);
      op.parents = r->Bytes(i, 5);
      op.payload = r->Bytes(i, 6);
      out.push_back(std::move(op));
    }
    return out;
  }

  // One group in two round trips, whatever its size, in pipeline mode:
  // (1) BEGIN, the documents' advisory locks in sorted order (no deadlock
  // between servers), their last seqs and which of the op ids are already
  // stored; (2) every new op, numbered here from those last seqs, in one
  // INSERT over arrays, and COMMIT. Under the locks no other writer appends
  // to these documents, so the numbering is gap-free; the unique op-id
  // constraint still stands behind it (a violation fails the group, which
  // WriteGroup then retries one request at a time). Per op this is a few
  // array elements instead of a statement (and a last-seq query) of its own.
  //
  // With `trust_heads`, when every document of the group is in heads_, the
  // group takes one round trip: no last-seq query and no op-id lookup, the
  // ops numbered from heads_ and assumed new. Each assumption is checked in
  // the transaction, before COMMIT:
  // - the table is not ahead of heads_ (another writer appended): seqs are
  //   gap-free from 1, so head+1 is stored and the insert collides on the
  //   primary key (doc_id, seq);
  // - the table is not behind heads_ (a failover to a standby that missed
  //   the last commits, a restore): probe_heads writes (doc_id, head) where
  //   it is missing, with the op id of the document's first new op, and
  //   the insert of that op at head+1 then collides on its op id;
  // - no op is stored already (a retry): it collides on its op id.
  // A collision aborts the transaction before COMMIT: nothing is stored,
  // *retry is set and the caller runs the group again without trusting
  // heads_.
  Result<std::vector<Result<AppendResult>>> WriteGroupBatched(
      pg::Conn& c, std::span<AppendRequest> group, bool trust_heads,
      bool* retry) {
    using pg::ArrayParam;
    PGconn* conn = c.get();
    if (PQenterPipelineMode(conn) != 1) {
      return pg::ErrorOf(conn, nullptr, "enter pipeline mode");
    }
    struct ExitPipeline {
      PGconn* conn;
      ~ExitPipeline() { PQexitPipelineMode(conn); }
    } exit_pipeline{conn};
    auto send = [&](const char* name, const Params& p) {
      return PQsendQueryPrepared(conn, name, p.size(), p.values(), p.lengths(),
                                 p.formats(), 1) == 1;
    };
    Status first_error;
    auto note = [&](const Status& s) {
      if (first_error.ok() && !s.ok()) first_error = s;
    };
    // Each query's result is followed by a nullptr.
    auto next = [&](const char* what) -> Res {
      Res r(PQgetResult(conn));
      if (r.get() == nullptr) {
        note(pg::ErrorOf(conn, nullptr, std::string("no result for ") + what));
        return r;
      }
      ExecStatusType st = PQresultStatus(r.get());
      PGresult* end = PQgetResult(conn);
      if (end != nullptr) PQclear(end);
      if (st == PGRES_PIPELINE_ABORTED) {
        note(Status::Aborted(std::string("postgres: ") + what +
                             " skipped after an earlier error"));
      } else if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        note(pg::ErrorOf(conn, r.get(), what));
      }
      return r;
    };
    auto sync = [&] {
      Res r(PQgetResult(conn));
      if (r.get() == nullptr ||
          PQresultStatus(r.get()) != PGRES_PIPELINE_SYNC) {
        note(pg::ErrorOf(conn, r.get(), "pipeline sync"));
      }
    };

    // The group's documents, sorted (the lock order) and each once; `last`
    // below runs beside it, index for index.
    std::vector<std::string_view> docs;
    docs.reserve(group.size());
    std::size_t total = 0;
    for (const AppendRequest& req : group) {
      docs.push_back(req.doc_id);
      total += req.ops.size();
    }
    std::sort(docs.begin(), docs.end());
    docs.erase(std::unique(docs.begin(), docs.end()), docs.end());
    ArrayParam doc_ids(ArrayParam::kText);
    for (std::string_view d : docs) doc_ids.Bytes(d);
    std::vector<std::int64_t> last(docs.size());  // running, per document
    std::vector<std::int64_t> stored(total, 0);   // by op, 0 = not stored
    bool fast = trust_heads;
    for (std::size_t i = 0; fast && i < docs.size(); ++i) {
      auto it = heads_.find(docs[i]);
      fast = it != heads_.end();
      if (fast) last[i] = it->second;
    }
    const std::vector<std::int64_t> heads = last;  // as remembered
    // Whatever happens next, heads_ is refreshed from a committed group only.
    for (std::string_view d : docs) {
      if (auto it = heads_.find(d); it != heads_.end()) heads_.erase(it);
    }
    if (!fast) {
      ArrayParam op_docs(ArrayParam::kText), op_clients(ArrayParam::kInt8),
          op_locals(ArrayParam::kInt8);
      for (const AppendRequest& req : group) {
        for (const NewOp& op : req.ops) {
          op_docs.Bytes(req.doc_id);
          op_clients.Int(static_cast<std::int64_t>(op.id.client_id));
          op_locals.Int(static_cast<std::int64_t>(op.id.local_seq));
        }
      }
      bool sent = send("begin", Params()) &&
                  send("lock_docs", Params().Bytes(doc_ids.data())) &&
                  send("last_seqs", Params().Bytes(doc_ids.data())) &&
                  send("find_ops", Params()
                                       .Bytes(op_docs.data())
                                       .Bytes(op_clients.data())
                                       .Bytes(op_locals.data())) &&
                  PQpipelineSync(conn) == 1;
      if (!sent) return pg::ErrorOf(conn, nullptr, "send group");
      next("begin");
      next("lock_docs");
      Res last_seqs = next("last_seqs");
      Res found = next("find_ops");
      sync();
      if (!first_error.ok()) return first_error;
      if (last_seqs.rows() != static_cast<int>(docs.size())) {
        return Status::Internal("last_seqs returned the wrong number of rows");
      }
      for (std::size_t i = 0; i < docs.size(); ++i) {
        last[i] = last_seqs.Int(static_cast<int>(i), 0);
      }
      if (found.rows() != static_cast<int>(total)) {
        return Status::Internal("find_ops returned the wrong number of rows");
      }
      for (std::size_t i = 0; i < total; ++i) {
        if (!found.IsNull(static_cast<int>(i), 0)) {
          stored[i] = found.Int(static_cast<int>(i), 0);
        }
      }
    }
    // Op ids new in this group, with their seqs (a repeat is a duplicate).
    std::map<std::tuple<std::string_view, std::uint64_t, std::uint64_t>,
             std::int64_t>
        fresh;
    ArrayParam ins_doc(ArrayParam::kText), ins_seq(ArrayParam::kInt8),
        ins_client(ArrayParam::kInt8), ins_local(ArrayParam::kInt8),
        ins_user(ArrayParam::kText), ins_time(ArrayParam::kInt8),
        ins_parents(ArrayParam::kBytea), ins_payload(ArrayParam::kBytea);
    std::vector<Result<AppendResult>> results;
    results.reserve(group.size());
    std::size_t k = 0, inserts = 0;
    // Per document, the op id of its first new op in the group (probe_heads).
    std::vector<std::int64_t> first_client(docs.size(), -1),
        first_local(docs.size(), 0);
    for (const AppendRequest& req : group) {
      AppendResult a;
      a.seqs.reserve(req.ops.size());
      a.duplicate.reserve(req.ops.size());
      const auto di = static_cast<std::size_t>(
          std::lower_bound(docs.begin(), docs.end(),
                           std::string_view(req.doc_id)) -
          docs.begin());
      std::int64_t& doc_last = last[di];
      for (const NewOp& op : req.ops) {
        std::int64_t seq = stored[k++];
        bool dup = seq != 0;
        if (!dup) {
          auto [it, added] = fresh.try_emplace(
              {req.doc_id, op.id.client_id, op.id.local_seq}, doc_last + 1);
          dup = !added;
          seq = it->second;
        }
        if (!dup) {
          if (first_client[di] < 0) {
            first_client[di] = static_cast<std::int64_t>(op.id.client_id);
            first_local[di] = static_cast<std::int64_t>(op.id.local_seq);
          }
          ++doc_last;
          ++inserts;
          ins_doc.Bytes(req.doc_id);
          ins_seq.Int(seq);
          ins_client.Int(static_cast<std::int64_t>(op.id.client_id));
          ins_local.Int(static_cast<std::int64_t>(op.id.local_seq));
          ins_user.Bytes(op.user_id);
          ins_time.Int(op.server_time_ms);
          ins_parents.Bytes(op.parents);
          ins_payload.Bytes(op.payload);
          if (a.new_count == 0) a.first_new_seq = seq;
          ++a.new_count;
        }
        a.seqs.push_back(seq);
        a.duplicate.push_back(dup);
      }
      a.last_seq = doc_last;
      results.emplace_back(std::move(a));
    }

    bool sent = true;
    if (fast) {
      // Every op is assumed new, so each document has a first new op.
      ArrayParam head_seqs(ArrayParam::kInt8), clients(ArrayParam::kInt8),
          locals(ArrayParam::kInt8);
      for (std::size_t i = 0; i < docs.size(); ++i) {
        if (first_client[i] < 0) return Status::Internal("no new op");
        head_seqs.Int(heads[i]);
        clients.Int(first_client[i]);
        locals.Int(first_local[i]);
      }
      sent = send("begin", Params()) && send("cached_plans", Params()) &&
             send("lock_docs", Params().Bytes(doc_ids.data())) &&
             send("probe_heads", Params()
                                     .Bytes(doc_ids.data())
                                     .Bytes(head_seqs.data())
                                     .Bytes(clients.data())
                                     .Bytes(locals.data()));
    }
    if (sent && inserts > 0) {
      Params p;
      p.Bytes(ins_doc.data())
          .Bytes(ins_seq.data())
          .Bytes(ins_client.data())
          .Bytes(ins_local.data())
          .Bytes(ins_user.data())
          .Bytes(ins_time.data())
          .Bytes(ins_parents.data())
          .Bytes(ins_payload.data());
      sent = send("insert_ops", p);
    }
    sent = sent && send("commit", Params()) && PQpipelineSync(conn) == 1;
    if (!sent) return pg::ErrorOf(conn, nullptr, "send group");
    if (fast) {
      next("begin");
      next("cached_plans");
      next("lock_docs");
      next("probe_heads");
    }
    if (inserts > 0) next("insert_ops");
    next("commit");
    sync();
    if (!first_error.ok()) {
      // AlreadyExists is a unique violation in probe_heads or the INSERT:
      // the transaction was aborted before COMMIT ran, so nothing of it is
      // stored.
      if (fast && first_error.code() == StatusCode::kAlreadyExists &&
          retry != nullptr) {
        *retry = true;
      }
      return first_error;
    }
    if (heads_.size() + docs.size() > kMaxHeads) heads_.clear();
    for (std::size_t i = 0; i < docs.size(); ++i) {
      if (last[i] > 0) heads_.emplace(docs[i], last[i]);
    }
    return results;
  }

  Result<std::vector<Result<AppendResult>>> WriteGroup(
      std::span<AppendRequest> group) {
    auto results = WriteGroupOnce(group);
    // The connection broke (a server restart or failover; also COMMIT
    // sent and its answer lost) or the server canceled a statement: once
    // more, on another connection. Op ids make it idempotent: what the
    // first try committed comes back with the seqs it got (probe_heads),
    // so a commit whose answer was lost is acknowledged, not reported as
    // a failure of unknown outcome (which drops the document in the hub).
    if (!results.ok() && results.status().code() == StatusCode::kUnavailable) {
      results = WriteGroupOnce(group);
    }
    return results;
  }

  Result<std::vector<Result<AppendResult>>> WriteGroupOnce(
      std::span<AppendRequest> group) {
    // The committer's own thread: a group waits for a connection rather
    // than fail because reads keep the pool busy.
    auto c = pool_.Acquire(pg::Pool::Wait::kUnbounded);
    if (!c.ok()) return c.status();
    bool retry = false;
    auto results = WriteGroupBatched(*c, group, true, &retry);
    if (retry) {
      if (PQtransactionStatus(c->get()) != PQTRANS_IDLE) {
        (void)c->Exec("rollback");
      }
      results = WriteGroupBatched(*c, group, false, nullptr);
    }
    if (results.ok() || group.size() == 1) {
      if (!results.ok() && PQtransactionStatus(c->get()) != PQTRANS_IDLE) {
        (void)c->Exec("rollback");
      }
      return results;
    }
    if (PQtransactionStatus(c->get()) != PQTRANS_IDLE) {
      (void)c->Exec("rollback");
    }
    if (results.status().code() == StatusCode::kUnavailable) return results;
    // One request failed the group: retry each in its own transaction so
    // that it fails alone.
    std::vector<Result<AppendResult>> each;
    for (std::size_t i = 0; i < group.size(); ++i) {
      auto r = WriteGroupBatched(*c, group.subspan(i, 1), false, nullptr);
      if (!r.ok() && PQtransactionStatus(c->get()) != PQTRANS_IDLE) {
        (void)c->Exec("rollback");
      }
      // The connection broke on the way: the whole group fails as
      // unavailable, so that WriteGroup tries it again on another one
      // (the requests committed here come back as duplicates with their
      // seqs), instead of every later request failing on this one.
      if (!r.ok() && r.status().code() == StatusCode::kUnavailable) {
        return r.status();
      }
      if (r.ok()) {
        each.push_back(std::move((*r)[0]));
      } else {
        each.push_back(r.status());
      }
    }
    return each;
  }

  // Documents' last committed seqs, as of this store's own commits (see
  // WriteGroupBatched). Used by the committer thread only. Cleared when it
  // would pass kMaxHeads entries.
  static constexpr std::size_t kMaxHeads = 1 << 16;
  std::map<std::string, std::int64_t, std::less<>> heads_;

  PgOptions options_;
  pg::Pool pool_;
  PgMetadata metadata_;
  std::unique_ptr<GroupCommitter> committer_;
};

}  // namespace

int PgSchemaVersion() { return kSchemaVersion; }

Result<std::unique_ptr<Store>> OpenPgStore(const PgOptions& options) {
  auto store = std::make_unique<PgStore>(options);
  WEFT_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

std::vector<pg::StatementDef> PgStatements() {
  std::vector<pg::StatementDef> all = Statements();
  const auto& meta = PgMetadataStatements();
  all.insert(all.end(), meta.begin(), meta.end());
  return all;
}

}  // namespace weft::store
