#include "core/lz.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/byte_io.h"

namespace weft::core {

namespace {
constexpr size_t kMinMatch = 4;
constexpr size_t kWindow = 1 << 16;
constexpr int kHashBits = 15;

uint32_t Hash4(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return (v * 2654435761u) >> (32 - kHashBits);
}
}  // namespace

std::string LzCompress(std::string_view in) {
  ByteWriter w;
  std::vector<int64_t> table(size_t{1} << kHashBits, -1);
  const char* base = in.data();
  const size_t n = in.size();
  size_t lit_start = 0;
  size_t i = 0;
  while (i + kMinMatch <= n) {
    uint32_t h = Hash4(base + i);
    int64_t cand = table[h];
    table[h] = static_cast<int64_t>(i);
    if (cand >= 0 && i - static_cast<size_t>(cand) <= kWindow &&
        std::memcmp(base + cand, base + i, kMinMatch) == 0) {
      size_t len = kMinMatch;
      while (i + len < n && base[cand + len] == base[i + len]) ++len;
      w.VarUint(i - lit_start);
      w.buffer().append(base + lit_start, i - lit_start);
      w.VarUint(len - kMinMatch);
      w.VarUint(i - static_cast<size_t>(cand) - 1);
      // Index a few positions inside the match for later matches.
      for (size_t k = i + 1; k < i + len && k + kMinMatch <= n; k += 2) {
        table[Hash4(base + k)] = static_cast<int64_t>(k);
      }
      i += len;
      lit_start = i;
    } else {
      ++i;
    }
  }
  w.VarUint(n - lit_start);
  w.buffer().append(base + lit_start, n - lit_start);
  return w.Take();
}

Status LzDecompress(std::string_view in, size_t max_out, std::string* out) {
  ByteReader r(in);
  out->clear();
  out->reserve(max_out);  // callers bound max_out (see the header)
  while (!r.AtEnd()) {
    uint64_t nlit = 0;
    WEFT_RETURN_IF_ERROR(r.VarUint(&nlit));
    if (nlit > max_out - out->size()) {
      return Status::Corruption("lz output too long");
    }
    std::string_view lit;
    WEFT_RETURN_IF_ERROR(r.Bytes(nlit, &lit));
    out->append(lit);
    if (r.AtEnd()) break;
    uint64_t len = 0, dist = 0;
    WEFT_RETURN_IF_ERROR(r.VarUint(&len));
    WEFT_RETURN_IF_ERROR(r.VarUint(&dist));
    if (len > max_out || len + kMinMatch > max_out - out->size()) {
      return Status::Corruption("lz output too long");
    }
    len += kMinMatch;
    if (dist >= out->size()) return Status::Corruption("lz distance");
    size_t from = out->size() - static_cast<size_t>(dist) - 1;
    if (dist + 1 >= len) {
      out->append(*out, from, len);  // no overlap: one copy
    } else {
      for (uint64_t k = 0; k < len; ++k) out->push_back((*out)[from + k]);
    }
  }
  return Status::Ok();
}

}  // namespace weft::core
