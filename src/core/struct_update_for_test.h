#pragma once

// For tests only: structured-data updates written byte by byte as
// docs/format.md spells them, to send what local edits refuse to make.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/byte_io.h"

namespace weft::core {

// One op of `client` (its op `seq`, clock `lamport`): map `key` in root
// map `map` set to the string `value`.
inline std::string RootMapSetStringUpdate(uint64_t client, uint32_t seq,
                                          uint64_t lamport,
                                          std::string_view map,
                                          std::string_view key,
                                          std::string_view value) {
  ByteWriter w;
  w.U8(1);  // format version
  w.U8(4);  // structured-data update
  w.VarUint(1);
  w.VarUint(client);
  w.VarUint(1);  // one op
  w.VarUint(0);  // client index
  w.VarUint(seq);
  w.VarUint(lamport);
  w.U8(0);  // map set
  w.U8(1);  // in a root map
  w.LengthPrefixed(map);
  w.LengthPrefixed(key);
  w.U8(4);  // a string
  w.LengthPrefixed(value);
  return w.Take();
}

}  // namespace weft::core
