#include "core/lz.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/byte_io.h"

namespace weft::core {

namespace {
constexpr size_t kMinMatch = 4;
constexpr size_t kWindow = 1 << 16;
constexpr int kHashBits = 15;

uint32_t Hash4(const char* p, int bits) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return (v * 2654435761u) >> (32 - bits);
}
}  // namespace

// Hash chains (up to kMaxChain candidates per position) and one step of
// lazy matching: if the next position has a longer match, emit a literal
// first. Deterministic, so equal texts compress to equal bytes.
std::string LzCompress(std::string_view in) {
  constexpr int kMaxChain = 48;
  ByteWriter w;
  const char* base = in.data();
  const size_t n = in.size();
  // Table size follows the input (small texts are encoded often).
  int bits = 8;
  while (bits < kHashBits && (size_t{1} << bits) < n) ++bits;
  std::vector<int64_t> head(size_t{1} << bits, -1);
  // Chain links for the last kWindow positions only (memory stays bounded
  // for large texts); a link that points forward was overwritten.
  std::vector<int64_t> prev(std::min(n, kWindow), -1);
  auto insert = [&](size_t pos) {
    if (pos + kMinMatch > n) return;
    uint32_t h = Hash4(base + pos, bits);
    prev[pos % kWindow] = head[h];
    head[h] = static_cast<int64_t>(pos);
  };
  // Longest match for `pos` among earlier positions; returns its length.
  auto find = [&](size_t pos, size_t* dist) -> size_t {
    if (pos + kMinMatch > n) return 0;
    size_t best = 0;
    int64_t cand = head[Hash4(base + pos, bits)];
    for (int k = 0; k < kMaxChain && cand >= 0; ++k) {
      size_t c = static_cast<size_t>(cand);
      if (pos - c > kWindow) break;
      if (base[c + best] == base[pos + best] &&
          std::memcmp(base + c, base + pos, kMinMatch) == 0) {
        size_t len = kMinMatch;
        while (pos + len < n && base[c + len] == base[pos + len]) ++len;
        if (len > best) {
          best = len;
          *dist = pos - c;
          if (pos + len == n) break;
        }
      }
      int64_t next = prev[c % kWindow];
      if (next >= cand) break;
      cand = next;
    }
    return best >= kMinMatch ? best : 0;
  };
  size_t lit_start = 0;
  size_t i = 0;
  while (i + kMinMatch <= n) {
    size_t dist = 0;
    size_t len = find(i, &dist);
    if (len > 0) {
      size_t dist2 = 0;
      insert(i);
      size_t len2 = find(i + 1, &dist2);
      if (len2 > len + 1) {  // a better match one byte later: take a literal
        ++i;
        continue;
      }
      w.VarUint(i - lit_start);
      w.buffer().append(base + lit_start, i - lit_start);
      w.VarUint(len - kMinMatch);
      w.VarUint(dist - 1);
      for (size_t k = i + 1; k < i + len; ++k) insert(k);
      i += len;
      lit_start = i;
    } else {
      insert(i);
      ++i;
    }
  }
  w.VarUint(n - lit_start);
  w.buffer().append(base + lit_start, n - lit_start);
  return w.Take();
}

namespace {

// 16 bytes, word by word: a second word that overlaps the first's output
// (a match distance of 8 to 15) reads what the first wrote.
WEFT_INLINE void Copy16(char* to, const char* from) {
  uint64_t w;
  std::memcpy(&w, from, 8);
  std::memcpy(to, &w, 8);
  std::memcpy(&w, from + 8, 8);
  std::memcpy(to + 8, &w, 8);
}

// LzDecompress into *out, which it may leave longer than the *n bytes
// written (its working buffer); the caller cuts it.
Status Decompress(std::string_view in, size_t max_out, std::string* out,
                  size_t* n_out) {
  constexpr size_t kSlack = 16;  // a match writes 16 bytes at least
  BulkReader r(in);
  const char* const in_end = in.data() + in.size();
  out->clear();
  out->reserve(max_out + kSlack);
  out->resize(std::min(max_out, std::max<size_t>(in.size() * 4, 4096)) +
              kSlack);
  char* base = out->data();
  size_t& n = *n_out;  // bytes written
  n = 0;
  // Makes room for `k` more bytes; n + k <= max_out (checked before).
  auto room = [&](size_t k) {
    if (n + k + kSlack <= out->size()) return;
    out->resize(std::min(max_out, std::max(n + k, out->size() * 2)) + kSlack);
    base = out->data();
  };
  while (!r.AtEnd()) {
    const uint64_t nlit = r.VarUint();
    if (r.failed()) return r.status();
    if (nlit > max_out - n) return Status::Corruption("lz output too long");
    const std::string_view lit = r.Bytes(nlit);
    if (r.failed()) return r.status();
    if (nlit > 0) {
      room(nlit);
      if (in_end - lit.data() >= static_cast<ptrdiff_t>(nlit + kSlack)) {
        Copy16(base + n, lit.data());
        if (nlit > 16) WildCopy(base + n + 16, lit.data() + 16, nlit - 16);
      } else {
        std::memcpy(base + n, lit.data(), nlit);
      }
      n += nlit;
    }
    if (r.AtEnd()) break;
    uint64_t len = r.VarUint();
    const uint64_t dist = r.VarUint();
    if (r.failed()) return r.status();
    if (len > max_out || len + kMinMatch > max_out - n) {
      return Status::Corruption("lz output too long");
    }
    len += kMinMatch;
    if (dist >= n) return Status::Corruption("lz distance");
    room(len);
    const char* from = base + n - static_cast<size_t>(dist) - 1;
    char* to = base + n;
    if (dist + 1 >= 8) {
      // 16 bytes whatever the length (most matches are shorter), then the
      // rest: no loop branch to mispredict for the short ones.
      Copy16(to, from);
      if (len > 16) WildCopy(to + 16, from + 16, len - 16);
    } else {  // repeats a pattern shorter than a word
      for (uint64_t k = 0; k < len; ++k) to[k] = from[k];
    }
    n += len;
  }
  return Status::Ok();
}

}  // namespace

// Through a raw pointer into a buffer reserved once (max_out, which
// callers bound, and 16 bytes of slack for Copy16) and grown by doubling
// (only bytes that are written get touched), then cut to the bytes
// written, on success and on failure alike; BulkReader checks each token
// once instead of each field.
Status LzDecompress(std::string_view in, size_t max_out, std::string* out) {
  size_t n = 0;
  Status s = Decompress(in, max_out, out, &n);
  out->resize(n);
  return s;
}

}  // namespace weft::core
