#pragma once

// RangeMap<V>: a map from uint32 keys to values where each key starts a
// range that runs up to the next key: the id index of ContentTree (per
// client, seq -> leaf holding the ids from that seq on). V{} stands for
// "no value" (Find's answer before the first key, or a gap).
//
// Entries sit in sorted chunks of up to kChunk (key, value) pairs, with the
// first key of every chunk in one vector: 12 bytes an entry when chunks are
// full (appends fill them; a split leaves two halves), against 48 for a
// std::map node, and a lookup is two binary searches in contiguous memory.
// Appending past the last key (fresh ids, bulk loads) is O(1) amortized;
// other assignments move at most one chunk's entries plus the chunk
// directory. Not thread-safe.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace weft::core {

template <typename V>
class RangeMap {
 public:
  static constexpr int kChunk = 64;

  // The value of the range holding `key` (the greatest key <= `key`), or
  // V{} if there is none.
  V Find(uint32_t key) const {
    size_t c = static_cast<size_t>(
        std::upper_bound(first_.begin(), first_.end(), key) - first_.begin());
    if (c == 0) return V{};
    const Chunk& ch = *chunks_[c - 1];
    int i = static_cast<int>(std::upper_bound(ch.keys, ch.keys + ch.n, key) -
                             ch.keys);
    return ch.vals[i - 1];
  }

  // Maps [s, e) to `v`; keys from `e` on keep their values. A range that
  // would repeat the value of the range before it is merged into it.
  void Assign(uint32_t s, uint32_t e, V v) {
    if (s >= e) return;
    const V at_e = Find(e);
    const bool key_e = HasKey(e);
    EraseRange(LowerBound(s), e);
    Pos p = LowerBound(s);
    const V* before = ValueBefore(p);
    if (before == nullptr || *before != v) InsertAt(p, s, v);
    if (!key_e && at_e != v) InsertAt(LowerBound(e), e, at_e);
  }

  // Maps [s, infinity) to `v`, dropping every key from `s` on.
  void AssignFrom(uint32_t s, V v) {
    if (size_ == 0 || s > LastKey()) {  // fast path: append
      if (size_ == 0 || LastValue() != v) InsertAt(End(), s, v);
      return;
    }
    EraseRange(LowerBound(s), uint64_t{UINT32_MAX} + 1);
    if (size_ == 0 || LastValue() != v) InsertAt(End(), s, v);
  }

  // Maps [key, infinity) to `v`; `key` must be above every key held (bulk
  // loads append in key order). Same as AssignFrom(key, v), in O(1).
  void Append(uint32_t key, V v) {
    if (size_ > 0 && LastValue() == v) return;
    if (chunks_.empty() || chunks_.back()->n == kChunk) {
      chunks_.push_back(std::make_unique<Chunk>());
      first_.push_back(key);
    }
    Chunk& ch = *chunks_.back();
    ch.keys[ch.n] = key;
    ch.vals[ch.n] = v;
    ++ch.n;
    ++size_;
  }

  size_t size() const { return size_; }

  // Heap bytes held.
  size_t MemoryBytes() const {
    return chunks_.size() * sizeof(Chunk) +
           chunks_.capacity() * sizeof(chunks_[0]) +
           first_.capacity() * sizeof(uint32_t);
  }

  // Calls f(key, value) for every entry in key order.
  template <typename F>
  void ForEach(F f) const {
    for (const auto& ch : chunks_) {
      for (int i = 0; i < ch->n; ++i) f(ch->keys[i], ch->vals[i]);
    }
  }

  // Keys strictly ascending, no empty chunk, directory in step; for tests.
  bool CheckInvariants() const {
    if (first_.size() != chunks_.size()) return false;
    size_t count = 0;
    bool any = false;
    uint32_t prev = 0;
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const Chunk& ch = *chunks_[c];
      if (ch.n <= 0 || ch.n > kChunk || first_[c] != ch.keys[0]) return false;
      for (int i = 0; i < ch.n; ++i) {
        if (any && ch.keys[i] <= prev) return false;
        prev = ch.keys[i];
        any = true;
      }
      count += static_cast<size_t>(ch.n);
    }
    return count == size_;
  }

 private:
  struct Chunk {
    int n = 0;
    uint32_t keys[kChunk];
    V vals[kChunk];
  };
  // An entry's place; {chunks_.size(), 0} is the end.
  struct Pos {
    size_t c;
    int i;
  };

  Pos End() const { return {chunks_.size(), 0}; }
  uint32_t LastKey() const {
    const Chunk& ch = *chunks_.back();
    return ch.keys[ch.n - 1];
  }
  V LastValue() const {
    const Chunk& ch = *chunks_.back();
    return ch.vals[ch.n - 1];
  }

  // The first entry with key >= k.
  Pos LowerBound(uint32_t k) const {
    size_t c = static_cast<size_t>(
        std::upper_bound(first_.begin(), first_.end(), k) - first_.begin());
    if (c == 0) return {0, 0};
    --c;
    const Chunk& ch = *chunks_[c];
    int i = static_cast<int>(std::lower_bound(ch.keys, ch.keys + ch.n, k) -
                             ch.keys);
    if (i == ch.n) return {c + 1, 0};
    return {c, i};
  }

  bool HasKey(uint32_t k) const {
    Pos p = LowerBound(k);
    return p.c < chunks_.size() && chunks_[p.c]->keys[p.i] == k;
  }

  // The value of the entry before `p`, or nullptr at the start.
  const V* ValueBefore(Pos p) const {
    if (p.i > 0) return &chunks_[p.c]->vals[p.i - 1];
    if (p.c == 0) return nullptr;
    const Chunk& ch = *chunks_[p.c - 1];
    return &ch.vals[ch.n - 1];
  }

  void InsertAt(Pos p, uint32_t k, V v) {
    if (chunks_.empty()) {
      chunks_.push_back(std::make_unique<Chunk>());
      first_.push_back(k);
      p = {0, 0};
    } else if (p.c == chunks_.size()) {  // at the end: the last chunk
      p = {chunks_.size() - 1, chunks_.back()->n};
    }
    if (chunks_[p.c]->n == kChunk) {
      const bool at_end = p.c + 1 == chunks_.size() && p.i == kChunk;
      auto fresh = std::make_unique<Chunk>();
      if (at_end) {  // appending: start an empty chunk, keep this one full
        chunks_.insert(chunks_.begin() + static_cast<ptrdiff_t>(p.c) + 1,
                       std::move(fresh));
        first_.insert(first_.begin() + static_cast<ptrdiff_t>(p.c) + 1, k);
        p = {p.c + 1, 0};
      } else {
        Chunk& ch = *chunks_[p.c];
        const int half = kChunk / 2;
        std::copy(ch.keys + half, ch.keys + ch.n, fresh->keys);
        std::copy(ch.vals + half, ch.vals + ch.n, fresh->vals);
        fresh->n = ch.n - half;
        ch.n = half;
        first_.insert(first_.begin() + static_cast<ptrdiff_t>(p.c) + 1,
                      fresh->keys[0]);
        chunks_.insert(chunks_.begin() + static_cast<ptrdiff_t>(p.c) + 1,
                       std::move(fresh));
        if (p.i > half) p = {p.c + 1, p.i - half};
      }
    }
    Chunk& ch = *chunks_[p.c];
    std::copy_backward(ch.keys + p.i, ch.keys + ch.n, ch.keys + ch.n + 1);
    std::copy_backward(ch.vals + p.i, ch.vals + ch.n, ch.vals + ch.n + 1);
    ch.keys[p.i] = k;
    ch.vals[p.i] = v;
    ++ch.n;
    first_[p.c] = ch.keys[0];
    ++size_;
  }

  // Erases the entries from `p` on whose keys are below `end`.
  void EraseRange(Pos p, uint64_t end) {
    while (p.c < chunks_.size()) {
      Chunk& ch = *chunks_[p.c];
      int j = static_cast<int>(
          std::lower_bound(ch.keys + p.i, ch.keys + ch.n, end,
                           [](uint32_t k, uint64_t x) { return k < x; }) -
          ch.keys);
      if (j > p.i) {
        std::copy(ch.keys + j, ch.keys + ch.n, ch.keys + p.i);
        std::copy(ch.vals + j, ch.vals + ch.n, ch.vals + p.i);
        const int gone = j - p.i;
        ch.n -= gone;
        size_ -= static_cast<size_t>(gone);
        j = p.i;
      }
      if (ch.n == 0) {
        chunks_.erase(chunks_.begin() + static_cast<ptrdiff_t>(p.c));
        first_.erase(first_.begin() + static_cast<ptrdiff_t>(p.c));
        p.i = 0;
        continue;
      }
      first_[p.c] = ch.keys[0];
      if (j < ch.n) return;  // reached a key >= end
      ++p.c;
      p.i = 0;
    }
  }

  std::vector<uint32_t> first_;  // first key of each chunk
  std::vector<std::unique_ptr<Chunk>> chunks_;
  size_t size_ = 0;
};

}  // namespace weft::core
