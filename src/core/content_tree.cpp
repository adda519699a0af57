#include "core/content_tree.h"

#include <algorithm>
#include <iterator>
#include <string>

namespace weft::core {

ContentTree::ContentTree() {
  auto* leaf = new Leaf;
  root_ = leaf;
  first_ = last_ = leaf;
}

// Inner nodes by traversal, leaves by their chain: during a bulk load the
// chain holds leaves that no inner node points to yet.
ContentTree::~ContentTree() {
  FreeNode(root_);
  for (Leaf* l = first_; l != nullptr;) {
    Leaf* next = l->next;
    delete l;
    l = next;
  }
}

void ContentTree::FreeNode(Node* n) {
  if (n->is_leaf) return;
  auto* in = static_cast<Inner*>(n);
  for (int i = 0; i < in->n; ++i) FreeNode(in->children[i]);
  delete in;
}

// The cursor before visible character `rel` of `leaf` (the end of the leaf
// if rel == leaf->vis), scanning from whichever end is nearer: typing
// sits anywhere in a leaf, so this halves the average scan.
static ContentTree::Cursor ScanLeaf(ContentTree::Leaf* leaf, uint64_t rel) {
  if (rel >= leaf->vis) return {leaf, leaf->n, 0};
  if (rel * 2 < leaf->vis) {
    for (int i = 0; i < leaf->n; ++i) {
      uint32_t v = leaf->spans[i].visible_len();
      if (rel < v) return {leaf, i, static_cast<uint32_t>(rel)};
      rel -= v;
    }
  } else {
    // Visible characters from `rel` to the end of the leaf, at least 1.
    uint64_t after = leaf->vis - rel;
    for (int i = leaf->n - 1; i >= 0; --i) {
      uint32_t v = leaf->spans[i].visible_len();
      if (after <= v) return {leaf, i, static_cast<uint32_t>(v - after)};
      after -= v;
    }
  }
  WEFT_CHECK_MSG(false, "leaf visible count out of step with its spans");
  return {leaf, leaf->n, 0};
}

ContentTree::Cursor ContentTree::FindVisible(uint64_t pos) {
  if (hint_leaf_ != nullptr && pos >= hint_start_ &&
      pos - hint_start_ < hint_leaf_->vis) {
    return ScanLeaf(hint_leaf_, pos - hint_start_);
  }
  const uint64_t want = pos;
  Node* n = root_;
  while (!n->is_leaf) {
    auto* in = static_cast<Inner*>(n);
    int i = 0;
    for (; i < in->n - 1; ++i) {
      if (pos < in->vis[i]) break;
      pos -= in->vis[i];
    }
    n = in->children[i];
  }
  auto* leaf = static_cast<Leaf*>(n);
  hint_leaf_ = leaf;
  hint_start_ = want - pos;
  return ScanLeaf(leaf, pos);
}

std::optional<ContentTree::Cursor> ContentTree::FindId(Id id) const {
  if (id.agent >= index_.size()) return std::nullopt;
  Leaf* leaf = index_[id.agent].Find(id.seq);
  if (leaf == nullptr) return std::nullopt;
  for (int i = 0; i < leaf->n; ++i) {
    if (leaf->spans[i].Contains(id)) {
      return Cursor{leaf, i, id.seq - leaf->spans[i].id.seq};
    }
  }
  return std::nullopt;
}

bool ContentTree::Normalize(Cursor* c) {
  while (c->idx >= c->leaf->n) {
    if (c->leaf->next == nullptr) return false;
    c->leaf = c->leaf->next;
    c->idx = 0;
    c->off = 0;
  }
  return true;
}

Id ContentTree::IdAt(Cursor c) const {
  if (!Normalize(&c)) return kNoId;
  const Span& s = c.leaf->spans[c.idx];
  return {s.id.agent, s.id.seq + c.off};
}

Id ContentTree::IdBefore(Cursor c) const {
  if (c.off > 0) {
    const Span& s = c.leaf->spans[c.idx];
    return {s.id.agent, s.id.seq + c.off - 1};
  }
  if (c.idx > 0) return c.leaf->spans[c.idx - 1].last();
  for (const Leaf* l = c.leaf->prev; l != nullptr; l = l->prev) {
    if (l->n > 0) return l->spans[l->n - 1].last();
  }
  return kNoId;
}

ContentTree::Cursor ContentTree::Advance(Cursor c) {
  Normalize(&c);
  if (++c.off == c.leaf->spans[c.idx].len()) {
    ++c.idx;
    c.off = 0;
  }
  return c;
}

int ContentTree::IndexInParent(const Node* node) { return node->slot; }

int ContentTree::Compare(Cursor a, Cursor b) {
  bool a_end = !Normalize(&a);
  bool b_end = !Normalize(&b);
  if (a_end || b_end) return static_cast<int>(a_end) - static_cast<int>(b_end);
  if (a.leaf == b.leaf) {
    if (a.idx != b.idx) return a.idx < b.idx ? -1 : 1;
    if (a.off != b.off) return a.off < b.off ? -1 : 1;
    return 0;
  }
  const Node* x = a.leaf;
  const Node* y = b.leaf;
  while (x->parent != y->parent) {
    x = x->parent;
    y = y->parent;
  }
  return IndexInParent(x) < IndexInParent(y) ? -1 : 1;
}

uint64_t ContentTree::VisiblePos(Cursor c) const {
  uint64_t pos = 0;
  for (int i = 0; i < c.idx && i < c.leaf->n; ++i) {
    pos += c.leaf->spans[i].visible_len();
  }
  if (c.idx < c.leaf->n && !c.leaf->spans[c.idx].deleted()) pos += c.off;
  const Node* node = c.leaf;
  while (node->parent != nullptr) {
    const Inner* p = node->parent;
    int i = IndexInParent(node);
    for (int j = 0; j < i; ++j) pos += p->vis[j];
    node = p;
  }
  return pos;
}

void ContentTree::AddVis(Node* node, int64_t delta) {
  if (delta == 0) return;
  if (node->is_leaf) {
    static_cast<Leaf*>(node)->vis += static_cast<uint64_t>(delta);
    if (node != hint_leaf_) hint_leaf_ = nullptr;
  }
  while (node->parent != nullptr) {
    Inner* p = node->parent;
    p->vis[IndexInParent(node)] += static_cast<uint64_t>(delta);
    node = p;
  }
}

void ContentTree::LinkSibling(Node* node, Node* fresh) {
  Inner* p = node->parent;
  if (p == nullptr) {
    auto* r = new Inner;
    r->is_leaf = false;
    r->n = 2;
    r->children[0] = node;
    r->children[1] = fresh;
    r->vis[0] = total_vis_;
    r->vis[1] = 0;
    node->parent = r;
    fresh->parent = r;
    node->slot = 0;
    fresh->slot = 1;
    root_ = r;
    return;
  }
  int i = IndexInParent(node);
  if (p->n == kInnerCap) {
    auto* q = new Inner;
    q->is_leaf = false;
    int half = kInnerCap / 2;
    uint64_t moved = 0;
    for (int j = half; j < p->n; ++j) {
      q->children[j - half] = p->children[j];
      q->vis[j - half] = p->vis[j];
      moved += p->vis[j];
      p->children[j]->parent = q;
      p->children[j]->slot = static_cast<uint8_t>(j - half);
    }
    q->n = p->n - half;
    p->n = half;
    LinkSibling(p, q);
    AddVis(p, -static_cast<int64_t>(moved));
    AddVis(q, static_cast<int64_t>(moved));
    if (i >= half) {
      p = q;
      i -= half;
    }
  }
  for (int j = p->n; j > i + 1; --j) {
    p->children[j] = p->children[j - 1];
    p->children[j]->slot = static_cast<uint8_t>(j);
    p->vis[j] = p->vis[j - 1];
  }
  p->children[i + 1] = fresh;
  p->vis[i + 1] = 0;
  ++p->n;
  fresh->parent = p;
  fresh->slot = static_cast<uint8_t>(i + 1);
}

void ContentTree::IndexRange(uint32_t agent, uint32_t s, uint32_t e,
                             Leaf* leaf) {
  if (agent >= index_.size()) {
    index_.resize(agent + 1);
    index_end_.resize(agent + 1, 0);
  }
  if (e >= index_end_[agent]) {  // nothing is indexed past e
    index_end_[agent] = e;
    index_[agent].AssignFrom(s, leaf);
  } else {
    index_[agent].Assign(s, e, leaf);
  }
}

ContentTree::Leaf* ContentTree::SplitLeaf(Leaf* leaf) {
  auto* r = new Leaf;
  int half = leaf->n / 2;
  uint64_t moved = 0;
  for (int j = half; j < leaf->n; ++j) {
    r->spans[j - half] = leaf->spans[j];
    moved += leaf->spans[j].visible_len();
  }
  r->n = leaf->n - half;
  leaf->n = half;
  r->next = leaf->next;
  if (r->next != nullptr) {
    r->next->prev = r;
  } else {
    last_ = r;
  }
  leaf->next = r;
  r->prev = leaf;
  LinkSibling(leaf, r);
  AddVis(leaf, -static_cast<int64_t>(moved));
  AddVis(r, static_cast<int64_t>(moved));
  // Re-point the index at the moved spans, one call per id run.
  int j = 0;
  while (j < r->n) {
    uint32_t agent = r->spans[j].id.agent;
    uint32_t s = r->spans[j].id.seq;
    uint32_t e = s + r->spans[j].len();
    ++j;
    while (j < r->n && r->spans[j].id.agent == agent &&
           r->spans[j].id.seq == e) {
      e += r->spans[j].len();
      ++j;
    }
    IndexRange(agent, s, e, r);
  }
  return r;
}

void ContentTree::Reserve(Cursor* c, int extra) {
  if (c->leaf->n + extra <= kLeafCap) return;
  Leaf* r = SplitLeaf(c->leaf);
  int half = c->leaf->n;
  if (c->idx > half || (c->idx == half && c->off > 0)) {
    c->leaf = r;
    c->idx -= half;
  }
}

ContentTree::Cursor ContentTree::Insert(Cursor c, const Span& span) {
  const uint32_t len = span.len();
  const int64_t vis = span.visible_len();
  if (c.off == 0) {
    Leaf* pl = c.leaf;
    int pi = c.idx - 1;
    if (pi < 0) {
      pl = c.leaf->prev;
      pi = pl != nullptr ? pl->n - 1 : -1;
    }
    if (pi >= 0 && pl->spans[pi].CanAppend(span)) {
      Span& p = pl->spans[pi];
      uint32_t old = p.len();
      p.set_len(old + len);
      if (vis != 0) {
        AddVis(pl, vis);
        total_vis_ += vis;
      }
      IndexRange(span.id.agent, span.id.seq, span.id.seq + len, pl);
      return {pl, pi, old};
    }
  }
  const int extra = c.off > 0 ? 2 : 1;
  Reserve(&c, extra);
  Leaf* l = c.leaf;
  int at = c.idx;
  for (int j = l->n - 1; j >= at + (c.off > 0 ? 1 : 0); --j) {
    l->spans[j + extra] = l->spans[j];
  }
  if (c.off > 0) {
    Span tail = l->spans[at].SplitOff(c.off);
    l->spans[at + 1] = span;
    l->spans[at + 2] = tail;
    ++at;
  } else {
    l->spans[at] = span;
  }
  l->n += extra;
  span_count_ += extra;
  if (vis != 0) {
    AddVis(l, vis);
    total_vis_ += vis;
  }
  IndexRange(span.id.agent, span.id.seq, span.id.seq + len, l);
  return {l, at, 0};
}

void ContentTree::TryMerge(Leaf* l, int idx) {
  if (idx + 1 < l->n && l->spans[idx].CanAppend(l->spans[idx + 1])) {
    l->spans[idx].set_len(l->spans[idx].len() + l->spans[idx + 1].len());
    for (int j = idx + 1; j + 1 < l->n; ++j) l->spans[j] = l->spans[j + 1];
    --l->n;
    --span_count_;
  }
  if (idx > 0 && l->spans[idx - 1].CanAppend(l->spans[idx])) {
    l->spans[idx - 1].set_len(l->spans[idx - 1].len() + l->spans[idx].len());
    for (int j = idx; j + 1 < l->n; ++j) l->spans[j] = l->spans[j + 1];
    --l->n;
    --span_count_;
  }
}

// Backspacing deletes the end of a visible span whose next span holds the
// characters deleted just before; deleting forwards, the start of one
// whose previous span does. When the deleted piece continues that
// neighbour, the neighbour grows over it in place: the same spans the
// split-then-merge path would leave, without moving any.
bool ContentTree::ExtendDeletedNeighbour(Cursor c, uint32_t k, bool at_end) {
  Leaf* l = c.leaf;
  Span& cur = l->spans[c.idx];
  if (at_end) {
    if (c.idx + 1 >= l->n) return false;
    Span& next = l->spans[c.idx + 1];
    Span mid = cur;
    mid = mid.SplitOff(c.off);
    mid.set_deleted(true);
    if (!mid.CanAppend(next)) return false;
    next.id = mid.id;
    next.origin_left = mid.origin_left;
    next.set_len(next.len() + k);
    cur.set_len(c.off);
  } else {
    if (c.idx == 0) return false;
    Span& prev = l->spans[c.idx - 1];
    Span mid = cur;
    Span tail = mid.SplitOff(k);
    mid.set_deleted(true);
    if (!prev.CanAppend(mid)) return false;
    prev.set_len(prev.len() + k);
    cur = tail;
  }
  AddVis(l, -static_cast<int64_t>(k));
  total_vis_ -= k;
  return true;
}

uint32_t ContentTree::MarkDeleted(Cursor c, uint32_t max_len,
                                  bool* was_visible) {
  WEFT_CHECK(Normalize(&c));
  const Span& cur = c.leaf->spans[c.idx];
  uint32_t k = std::min(max_len, cur.len() - c.off);
  if (cur.deleted()) {
    *was_visible = false;
    return k;
  }
  *was_visible = true;
  const bool has_head = c.off > 0;
  const bool has_tail = c.off + k < cur.len();
  if (has_head != has_tail && ExtendDeletedNeighbour(c, k, has_head)) {
    return k;
  }
  const int extra = (has_head ? 1 : 0) + (has_tail ? 1 : 0);
  Reserve(&c, extra);
  Normalize(&c);  // the split may leave c at the end of the left leaf
  Leaf* l = c.leaf;
  int at = c.idx;
  Span head = l->spans[at];
  Span mid = has_head ? head.SplitOff(c.off) : head;
  Span tail{};
  if (has_tail) tail = mid.SplitOff(k);
  mid.set_deleted(true);
  for (int j = l->n - 1; j > at; --j) l->spans[j + extra] = l->spans[j];
  int w = at;
  if (has_head) l->spans[w++] = head;
  int mid_idx = w;
  l->spans[w++] = mid;
  if (has_tail) l->spans[w++] = tail;
  l->n += extra;
  span_count_ += extra;
  AddVis(l, -static_cast<int64_t>(k));
  total_vis_ -= k;
  TryMerge(l, mid_idx);
  return k;
}

ContentTree::Leaf* ContentTree::BulkNewLeaf() {
  auto* r = new Leaf;
  r->prev = last_;
  last_->next = r;
  last_ = r;
  hint_leaf_ = nullptr;
  return r;
}

void ContentTree::BulkIndex(uint32_t agent, const uint32_t* seqs,
                            Leaf* const* leaves, size_t n, uint32_t end) {
  if (agent >= index_.size()) {
    index_.resize(agent + 1);
    index_end_.resize(agent + 1, 0);
  }
  index_end_[agent] = end;
  RangeMap<Leaf*>& map = index_[agent];
  for (size_t i = 0; i < n; ++i) map.Append(seqs[i], leaves[i]);
}

void ContentTree::FinishBulk() {
  std::vector<Node*> level;
  std::vector<uint64_t> vis;
  for (Leaf* l = first_; l != nullptr; l = l->next) {
    level.push_back(l);
    vis.push_back(l->vis);
  }
  while (level.size() > 1) {
    std::vector<Node*> up;
    std::vector<uint64_t> up_vis;
    constexpr size_t kFill = kInnerCap * 3 / 4;
    for (size_t i = 0; i < level.size(); i += kFill) {
      auto* in = new Inner;
      in->is_leaf = false;
      uint64_t sum = 0;
      for (size_t j = i; j < level.size() && j < i + kFill; ++j) {
        in->children[in->n] = level[j];
        level[j]->slot = static_cast<uint8_t>(in->n);
        in->vis[in->n] = vis[j];
        ++in->n;
        level[j]->parent = in;
        sum += vis[j];
      }
      up.push_back(in);
      up_vis.push_back(sum);
    }
    level = std::move(up);
    vis = std::move(up_vis);
  }
  root_ = level[0];
  root_->parent = nullptr;
}

static size_t NodeBytes(const ContentTree::Node* n) {
  if (n->is_leaf) return sizeof(ContentTree::Leaf);
  const auto* in = static_cast<const ContentTree::Inner*>(n);
  size_t b = sizeof(ContentTree::Inner);
  for (int i = 0; i < in->n; ++i) b += NodeBytes(in->children[i]);
  return b;
}

size_t ContentTree::MemoryBytes() const {
  size_t b = NodeBytes(root_);
  for (const auto& m : index_) b += m.MemoryBytes();
  b += index_.capacity() * sizeof(index_[0]);
  b += index_end_.capacity() * sizeof(uint32_t);
  return b;
}

namespace {
struct CheckState {
  int leaf_depth = -1;
  std::vector<const ContentTree::Leaf*> leaves;
  uint64_t spans = 0;
};
}  // namespace

static Status CheckNode(const ContentTree::Node* n, int depth, uint64_t* vis,
                        CheckState* st) {
  if (n->is_leaf) {
    const auto* l = static_cast<const ContentTree::Leaf*>(n);
    if (st->leaf_depth == -1) st->leaf_depth = depth;
    if (st->leaf_depth != depth) return Status::Internal("unbalanced tree");
    if (l->n > ContentTree::kLeafCap) return Status::Internal("leaf overflow");
    uint64_t v = 0;
    for (int i = 0; i < l->n; ++i) {
      if (l->spans[i].len() == 0) return Status::Internal("empty span");
      v += l->spans[i].visible_len();
    }
    if (v != l->vis) return Status::Internal("stale leaf visible count");
    st->spans += l->n;
    st->leaves.push_back(l);
    *vis = v;
    return Status::Ok();
  }
  const auto* in = static_cast<const ContentTree::Inner*>(n);
  if (in->n < 1 || in->n > ContentTree::kInnerCap) {
    return Status::Internal("bad inner fan-out");
  }
  uint64_t total = 0;
  for (int i = 0; i < in->n; ++i) {
    if (in->children[i]->parent != in) return Status::Internal("bad parent");
    if (in->children[i]->slot != i) return Status::Internal("bad slot");
    uint64_t v = 0;
    WEFT_RETURN_IF_ERROR(CheckNode(in->children[i], depth + 1, &v, st));
    if (v != in->vis[i]) return Status::Internal("stale visible count");
    total += v;
  }
  *vis = total;
  return Status::Ok();
}

Status ContentTree::CheckInvariants() const {
  if (root_->parent != nullptr) return Status::Internal("root has a parent");
  CheckState st;
  uint64_t vis = 0;
  WEFT_RETURN_IF_ERROR(CheckNode(root_, 0, &vis, &st));
  if (vis != total_vis_) return Status::Internal("total visible mismatch");
  if (st.spans != span_count_) return Status::Internal("span count mismatch");
  const Leaf* prev = nullptr;
  const Leaf* l = first_;
  for (const Leaf* want : st.leaves) {
    if (l != want) return Status::Internal("leaf chain out of order");
    if (l->prev != prev) return Status::Internal("bad prev link");
    if (l->n == 0 && st.leaves.size() > 1) {
      return Status::Internal("empty leaf");
    }
    prev = l;
    l = l->next;
  }
  if (l != nullptr || prev != last_) return Status::Internal("bad leaf chain");
  for (const Leaf* leaf : st.leaves) {
    for (int i = 0; i < leaf->n; ++i) {
      const Span& s = leaf->spans[i];
      for (Id id : {s.id, s.last()}) {
        auto c = FindId(id);
        if (!c || c->leaf != leaf || c->idx != i) {
          return Status::Internal("id index does not find span " +
                                  std::to_string(id.agent) + ":" +
                                  std::to_string(id.seq));
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace weft::core
