#pragma once

// The statements that every connection of the PostgreSQL store's pool
// prepares: the operation log's (pg_store.cpp) and the metadata's
// (pg_metadata.cpp). Internal to src/store; tests build a pool with them to
// look at the plans a store's connection would use.

#include <vector>

#include "store/pg_pool.h"

namespace weft::store {

std::vector<pg::StatementDef> PgStatements();

}  // namespace weft::store
