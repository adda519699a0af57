#include "store_open.h"

#include "store/memory_store.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"

namespace weft::app {

Result<std::unique_ptr<store::Store>> OpenConfiguredStore(
    const std::string& kind, const std::string& data_dir,
    const std::string& database_url) {
  if (kind == "memory") return store::NewMemoryStore();
  if (kind == "sqlite") {
    store::SqliteOptions o;
    o.path = data_dir + "/weft.db";
    return store::OpenSqliteStore(o);
  }
  if (kind == "postgres") {
    if (database_url.empty()) {
      return Status::InvalidArgument(
          "--store postgres needs --database-url or WEFT_DATABASE_URL");
    }
    store::PgOptions o;
    o.conninfo = database_url;
    return store::OpenPgStore(o);
  }
  return Status::InvalidArgument("--store must be sqlite, postgres or memory");
}

}  // namespace weft::app
