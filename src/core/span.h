#pragma once

// Ids and run-length encoded spans of a text sequence.

#include <cstdint>

namespace weft::core {

// Identifies one operation (one inserted or deleted code point): the local
// index of its client ("agent", see TextDoc) and the client's sequence
// number. kNoId stands for the start (as a left origin) or the end (as a
// right origin) of the document.
struct Id {
  uint32_t agent;
  uint32_t seq;
  friend bool operator==(const Id&, const Id&) = default;
  bool none() const { return agent == UINT32_MAX; }
};
inline constexpr Id kNoId{UINT32_MAX, 0};

// A run of `len` consecutive ids of one agent that sit next to each other in
// the document, share the right origin, and are all deleted or all visible.
// Character k > 0 of the run has the left origin {agent, seq + k - 1}, so the
// run stores only the origins of its first character. 28 bytes.
// A span's length has 31 bits (len_del keeps the deleted flag in the
// lowest): no span, run or merge of them may be longer. (An update run of
// 2^31 characters became a span of length 0: the document's snapshot no
// longer loaded, and a replica's diff aborted.)
constexpr uint32_t kMaxSpanLen = (uint32_t{1} << 31) - 1;

struct Span {
  Id id;
  Id origin_left;
  Id origin_right;
  uint32_t len_del;  // len << 1 | deleted

  uint32_t len() const { return len_del >> 1; }
  bool deleted() const { return len_del & 1; }
  uint32_t visible_len() const { return deleted() ? 0 : len(); }
  void set_len(uint32_t n) { len_del = (n << 1) | (len_del & 1); }
  void set_deleted(bool d) { len_del = (len_del & ~1u) | (d ? 1u : 0u); }
  Id last() const { return {id.agent, id.seq + len() - 1}; }
  bool Contains(Id x) const {
    return x.agent == id.agent && x.seq - id.seq < len();
  }
  // True if `next` can extend this span into one run.
  bool CanAppend(const Span& next) const {
    return next.id.agent == id.agent && next.id.seq == id.seq + len() &&
           next.len() <= kMaxSpanLen - len() && next.origin_left == last() &&
           next.origin_right == origin_right && next.deleted() == deleted();
  }
  // Cuts this span at `offset` (0 < offset < len) and returns the tail.
  Span SplitOff(uint32_t offset) {
    Span tail = *this;
    tail.id.seq += offset;
    tail.origin_left = {id.agent, id.seq + offset - 1};
    tail.set_len(len() - offset);
    set_len(offset);
    return tail;
  }
};

}  // namespace weft::core
