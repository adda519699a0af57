#pragma once

// MemoryStore: the Store kept in process memory, for tests. Honours every
// method and every contract of store.h (appends go through a GroupCommitter
// like the SQL stores); "durable" means "for the life of the object".
// Thread-safe.

#include <memory>

#include "store/store.h"

namespace weft::store {

std::unique_ptr<Store> NewMemoryStore();

}  // namespace weft::store
