#pragma once

// Opening the store the way weftd is configured (--store, --data-dir,
// --database-url), shared by weftd and the `weft user` subcommands.

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/store.h"

namespace weft::app {

// Whether a document's snapshot loads in the engine (as a text, or as a
// board's or canvas's Doc): what weftd checks of every latest snapshot
// when it opens its store (a store.h SnapshotValidator), and what `weft`
// checks before it imports, backs up or restores one.
Status ValidateSnapshot(std::string_view doc_id, std::string_view state);

// The SQLite store's file in `data_dir` (weft.db).
std::string SqliteStorePath(const std::string& data_dir);

// `kind` is "sqlite" (the file weft.db in `data_dir`), "postgres" (needs
// `database_url`) or "memory". Runs migrations. InvalidArgument for a bad
// kind or a missing URL; the store's error when it cannot open.
// `on_commit` (optional) is told about each durable group commit.
// `migrate` false: a store at another schema version is refused instead of
// upgraded (the `weft` tool beside a running weftd).
Result<std::unique_ptr<store::Store>> OpenConfiguredStore(
    const std::string& kind, const std::string& data_dir,
    const std::string& database_url, store::CommitObserver on_commit = {},
    bool migrate = true);

}  // namespace weft::app
