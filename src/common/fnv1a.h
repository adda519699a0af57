#pragma once

#include <cstdint>
#include <string_view>

namespace weft {

// 64-bit FNV-1a of `data`: a fast, stable fingerprint (not a defence
// against anyone choosing the input). Its values are stored (token
// versions, idempotency fingerprints): never change it.
constexpr std::uint64_t Fnv1a(std::string_view data) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace weft
