#include "store_open.h"

#include "core/doc.h"
#include "core/text_doc.h"
#include "store/memory_store.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"

namespace weft::app {
// On open, every document's log must be contiguous and its latest snapshot
// must load in the engine (as a text, or as a board's or canvas's Doc): an
// unusable store stops the server with the reason, never a silently empty
// document.
Status ValidateSnapshot(std::string_view, std::string_view state) {
  auto text = core::TextDoc::LoadSnapshot(state, 0);
  if (text.ok()) return Status::Ok();
  auto doc = core::Doc::LoadSnapshot(state, 0);
  if (doc.ok()) return Status::Ok();
  return Status::Corruption("the snapshot loads neither as a text (" +
                            text.status().ToString() + ") nor as a Doc (" +
                            doc.status().ToString() + ")");
}

std::string SqliteStorePath(const std::string& data_dir) {
  return data_dir + "/weft.db";
}

Result<std::unique_ptr<store::Store>> OpenConfiguredStore(
    const std::string& kind, const std::string& data_dir,
    const std::string& database_url, store::CommitObserver on_commit,
    bool migrate) {
  if (kind == "memory") return store::NewMemoryStore();
  if (kind == "sqlite") {
    store::SqliteOptions o;
    o.path = SqliteStorePath(data_dir);
    o.verify_on_open = true;
    o.validator = ValidateSnapshot;
    o.on_commit = on_commit;
    o.migrate = migrate;
    return store::OpenSqliteStore(o);
  }
  if (kind == "postgres") {
    if (database_url.empty()) {
      return Status::InvalidArgument(
          "--store postgres needs --database-url or WEFT_DATABASE_URL");
    }
    store::PgOptions o;
    o.conninfo = database_url;
    o.verify_on_open = true;
    o.validator = ValidateSnapshot;
    o.on_commit = std::move(on_commit);
    o.migrate = migrate;
    return store::OpenPgStore(o);
  }
  return Status::InvalidArgument("--store must be sqlite, postgres or memory");
}

}  // namespace weft::app
