#pragma once

// ContentTree: the document order of every inserted character (deleted ones
// included, as tombstones), stored as run-length encoded Spans in a B-tree.
// Leaves hold up to kLeafCap spans inline (no per-character heap nodes);
// inner nodes hold the visible length of each child, so finding the n-th
// visible code point is O(log n). A per-agent range index maps ids to the
// leaf holding them, so finding an id is O(log n) too.
//
// The tree only stores structure; TextDoc decides where spans go (the
// CRDT rules) and keeps the characters. Not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/inline.h"
#include "core/range_map.h"
#include "core/span.h"

namespace weft::core {

class ContentTree {
 public:
  static constexpr int kLeafCap = 32;
  static constexpr int kInnerCap = 16;

  struct Inner;
  struct Node {
    Inner* parent = nullptr;
    bool is_leaf = true;
    uint8_t slot = 0;  // index in parent->children (kept on every move)
  };
  struct Leaf : Node {
    int n = 0;
    Leaf* prev = nullptr;
    Leaf* next = nullptr;
    uint64_t vis = 0;  // visible characters in this leaf
    Span spans[kLeafCap];
  };
  struct Inner : Node {
    int n = 0;
    Node* children[kInnerCap];
    uint64_t vis[kInnerCap];
  };

  // A position between items: before character `off` of span `idx` of
  // `leaf`. idx == leaf->n means the end of the leaf (the start of the next
  // one, or the end of the document).
  struct Cursor {
    Leaf* leaf;
    int idx;
    uint32_t off;
  };

  ContentTree();
  ~ContentTree();
  ContentTree(const ContentTree&) = delete;
  ContentTree& operator=(const ContentTree&) = delete;

  uint64_t visible_len() const { return total_vis_; }
  uint64_t span_count() const { return span_count_; }
  const Leaf* first_leaf() const { return first_; }

  // The cursor before the `pos`-th visible character (after any deleted
  // characters preceding it); the end of the document if pos == length.
  // pos must be <= visible_len().
  Cursor FindVisible(uint64_t pos);
  // The cursor before character `id`, or nullopt if no span holds it.
  std::optional<Cursor> FindId(Id id) const;
  // Cursor before the first item / after the last one.
  Cursor Begin() const { return {first_, 0, 0}; }
  Cursor End() const { return {last_, last_->n, 0}; }

  // Moves a cursor with idx == leaf->n to the next leaf's start. Returns
  // false if the cursor is at the end of the document.
  static bool Normalize(Cursor* c);
  // The id of the character after / before the cursor, kNoId at the ends.
  Id IdAt(Cursor c) const;
  Id IdBefore(Cursor c) const;
  // Cursor one character after `c` (which must not be at the end).
  static Cursor Advance(Cursor c);

  // Document order of two cursors: <0, 0, >0.
  static int Compare(Cursor a, Cursor b);
  // Number of visible characters before the cursor.
  uint64_t VisiblePos(Cursor c) const;

  // Inserts `span` (fresh ids, not yet in the tree) at `c`, splitting the
  // span under the cursor if needed. Returns a cursor at its first char.
  Cursor Insert(Cursor c, const Span& span);
  // Bulk loading: append spans in document order (returns the leaf that
  // holds it; inline, a load calls it once a span), then index each agent
  // once with BulkIndex, then FinishBulk().
  WEFT_INLINE Leaf* BulkAppend(const Span& span) {
    Leaf* l = last_;
    if (l->n > 0 && l->spans[l->n - 1].CanAppend(span)) {
      l->spans[l->n - 1].set_len(l->spans[l->n - 1].len() + span.len());
    } else {
      if (l->n >= kLeafCap - 8) l = BulkNewLeaf();
      l->spans[l->n++] = span;
      ++span_count_;
    }
    total_vis_ += span.visible_len();
    l->vis += span.visible_len();
    return l;
  }
  // Ids of `agent` from seqs[i] up to seqs[i + 1] are in leaves[i] (seqs
  // ascending), the last run up to `end`, past which none is indexed.
  void BulkIndex(uint32_t agent, const uint32_t* seqs, Leaf* const* leaves,
                 size_t n, uint32_t end);
  void FinishBulk();

  // Marks up to `max_len` characters from `c` (which must be at a character,
  // not at the end) deleted, staying inside one span. Returns the number of
  // characters covered and sets *was_visible.
  uint32_t MarkDeleted(Cursor c, uint32_t max_len, bool* was_visible);

  // Heap bytes held by the tree and its index (nodes counted at their
  // allocation size).
  size_t MemoryBytes() const;

  // Checks every structural invariant (counts, links, index); for tests.
  Status CheckInvariants() const;

 private:
  void AddVis(Node* node, int64_t delta);
  static int IndexInParent(const Node* node);
  // Links `fresh` as the next sibling of `node` with a zero count.
  void LinkSibling(Node* node, Node* fresh);
  Leaf* SplitLeaf(Leaf* leaf);
  // Ensures `extra` free slots in c->leaf, splitting it and moving c.
  void Reserve(Cursor* c, int extra);
  void IndexRange(uint32_t agent, uint32_t seq, uint32_t end, Leaf* leaf);
  // Links a fresh empty leaf after the last one (bulk loading).
  Leaf* BulkNewLeaf();
  void TryMerge(Leaf* leaf, int idx);
  // MarkDeleted's shortcut: k visible characters at one end of the span at
  // `c` (its end if at_end, else its start) join the deleted neighbour
  // span they continue. False (nothing changed) if they do not.
  bool ExtendDeletedNeighbour(Cursor c, uint32_t k, bool at_end);
  void FreeNode(Node* n);

  Node* root_;
  // The leaf FindVisible found last and the visible position of its start:
  // edits are local, so most lookups start here instead of at the root.
  // Reset whenever a count changes in another leaf.
  Leaf* hint_leaf_ = nullptr;
  uint64_t hint_start_ = 0;
  Leaf* first_;
  Leaf* last_;
  uint64_t total_vis_ = 0;
  uint64_t span_count_ = 0;
  // Per agent: seq -> leaf holding the ids from that seq up to the next key.
  std::vector<RangeMap<Leaf*>> index_;
  // Per agent: one past the highest seq ever indexed.
  std::vector<uint32_t> index_end_;
};

}  // namespace weft::core
