#pragma once

// Fractional index keys: strings over the 62 characters 0-9A-Za-z, compared
// byte-wise, read as base-62 fractions. Between any two different keys
// there is always another, so an item can be placed (or moved) between two
// neighbours without touching them. Generated keys never end in '0'.
// Pure functions, thread-safe.

#include <string>
#include <string_view>

namespace weft::core {

// A key strictly between `lo` and `hi` (empty = unbounded on that side).
// If lo >= hi (e.g. two concurrent inserts drew the same key), the result
// is only guaranteed to be greater than `lo`.
std::string KeyBetween(std::string_view lo, std::string_view hi);

// True if `key` is a non-empty key of at most 1024 valid characters that
// does not end in '0' (what KeyBetween produces).
bool IsValidKey(std::string_view key);

}  // namespace weft::core
