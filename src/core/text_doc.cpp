#include "core/text_doc.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <queue>
#include <unordered_map>
#include <utility>

#include "core/byte_io.h"
#include "core/lz.h"
#include "core/utf.h"

namespace weft::core {

namespace {

constexpr uint8_t kFormatVersion = 1;
// Snapshots: version 2 stores the visible text before the spans (a reader
// that only shows the text stops there); version 1 after them. Both load.
constexpr uint8_t kSnapshotVersion = 2;
constexpr uint8_t kSnapshotVersionTextLast = 1;
constexpr uint8_t kKindUpdate = 1;
constexpr uint8_t kKindSnapshot = 2;
constexpr uint8_t kKindStateVector = 3;

// Snapshot text: raw UTF-8, or LZ-compressed (core/lz.h) when smaller. A
// decoder allocates at most MaxLzExpansion(compressed bytes) for it, and
// the encoder never compresses beyond that.
constexpr uint8_t kTextRaw = 0;
constexpr uint8_t kTextLz = 1;
constexpr uint64_t MaxLzExpansion(uint64_t packed) {
  return std::max<uint64_t>(uint64_t{1} << 20, packed * 256);
}

enum RunKind : uint8_t {
  kRunInsert = 0,
  kRunInsertDeleted = 1,
  kRunDelete = 2,
  kRunDeleteReversed = 3,
};

// ids on the wire name clients by their index in the message's table
// (`table(agent)` gives it).
template <typename Table>
void PutId(ByteWriter* w, Id id, Table* table) {
  if (id.none()) {
    w->VarUint(0);
    return;
  }
  w->VarUint(uint64_t{(*table)(id.agent)} + 1);
  w->VarUint(id.seq);
}

Status GetId(ByteReader* r, uint64_t nclients, Id* id) {
  uint64_t a = 0;
  WEFT_RETURN_IF_ERROR(r->VarUintMax(nclients, &a));
  if (a == 0) {
    *id = kNoId;
    return Status::Ok();
  }
  uint32_t seq = 0;
  WEFT_RETURN_IF_ERROR(r->U32(&seq));
  *id = {static_cast<uint32_t>(a - 1), seq};
  return Status::Ok();
}

// Snapshot fields naming a client are left out when the table has exactly
// one client; snapshot ids are never "none" and carry their seq as a signed
// delta from a nearby seq `base`.
void PutClient(ByteWriter* w, uint32_t index, size_t nclients) {
  if (nclients > 1) w->VarUint(index);
}

void PutRelId(ByteWriter* w, Id id, uint32_t base,
              const std::vector<uint32_t>& table_index, size_t nclients) {
  PutClient(w, table_index[id.agent], nclients);
  w->VarSint(int64_t{id.seq} - int64_t{base});
}

// An update's client table (any order; duplicates are harmless).
Status ReadClients(ByteReader* r, std::vector<uint64_t>* clients) {
  uint64_t n = 0;
  WEFT_RETURN_IF_ERROR(r->VarUintMax(r->remaining(), &n));
  clients->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t c = 0;
    WEFT_RETURN_IF_ERROR(r->VarUint(&c));
    clients->push_back(c);
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeStateVector(const StateVector& sv) {
  ByteWriter w;
  w.U8(kFormatVersion);
  w.U8(kKindStateVector);
  w.VarUint(sv.size());
  for (const auto& [client, seq] : sv) {
    w.VarUint(client);
    w.VarUint(seq);
  }
  return w.Take();
}

Result<StateVector> DecodeStateVector(std::string_view bytes) {
  ByteReader r(bytes);
  uint8_t version = 0, kind = 0;
  WEFT_RETURN_IF_ERROR(r.U8(&version));
  if (version != kFormatVersion) {
    return Status::Corruption("unsupported format version");
  }
  WEFT_RETURN_IF_ERROR(r.U8(&kind));
  if (kind != kKindStateVector) return Status::Corruption("not a state vector");
  uint64_t n = 0;
  WEFT_RETURN_IF_ERROR(r.VarUintMax(r.remaining(), &n));
  StateVector sv;
  uint64_t prev = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t client = 0;
    uint32_t seq = 0;
    WEFT_RETURN_IF_ERROR(r.VarUint(&client));
    WEFT_RETURN_IF_ERROR(r.U32(&seq));
    if (i > 0 && client <= prev) {
      return Status::Corruption("state vector not sorted");
    }
    prev = client;
    sv.emplace_hint(sv.end(), client, seq);
  }
  if (!r.AtEnd()) return Status::Corruption("trailing bytes");
  return sv;
}

TextDoc::TextDoc(uint64_t client_id, TextDocLimits limits) : limits_(limits) {
  my_agent_ = AgentFor(client_id);
}

uint32_t TextDoc::AgentFor(uint64_t client) {
  auto [it, fresh] =
      agent_of_.emplace(client, static_cast<uint32_t>(agents_.size()));
  if (fresh) {
    agents_.emplace_back();
    agents_.back().client = client;
  }
  return it->second;
}

const TextDoc::GapRun* TextDoc::GapAtOrBefore(const Agent& ag, uint32_t seq) {
  auto it =
      std::upper_bound(ag.gaps.begin(), ag.gaps.end(), seq,
                       [](uint32_t s, const GapRun& g) { return s < g.seq; });
  return it == ag.gaps.begin() ? nullptr : &*std::prev(it);
}

uint32_t TextDoc::TextOffset(const Agent& ag, uint32_t seq) {
  const GapRun* g = GapAtOrBefore(ag, seq);
  WEFT_CHECK(g == nullptr || seq - g->seq >= g->len);
  return g == nullptr ? seq : seq - g->gaps_through;
}

// A visible span's ids all carry text and no gap splits them (a gap seq is
// a delete, or an insert that is deleted), so its text is one slice.
void TextDoc::AppendContent(uint32_t agent, uint32_t seq, uint32_t len,
                            std::string* out) const {
  const Agent& ag = agents_[agent];
  out->append(ag.text.Slice(TextOffset(ag, seq), len));
}

std::string TextDoc::Text() const {
  return has_loaded_text_ ? loaded_text_ : TreeText();
}

std::string TextDoc::TreeText() const {
  std::string out;
  out.reserve(tree_.visible_len());
  for (const auto* l = tree_.first_leaf(); l != nullptr; l = l->next) {
    for (int i = 0; i < l->n; ++i) {
      const Span& s = l->spans[i];
      if (!s.deleted()) AppendContent(s.id.agent, s.id.seq, s.len(), &out);
    }
  }
  return out;
}

bool TextDoc::Known(Id id) const {
  return id.none() ||
         (id.agent < agents_.size() && id.seq < agents_[id.agent].next_seq);
}

WEFT_INLINE void TextDoc::LogElided(std::vector<GapRun>* gaps, uint32_t seq,
                                    uint32_t len) {
  const uint32_t before = gaps->empty() ? 0 : gaps->back().gaps_through;
  if (!gaps->empty()) {
    GapRun& last = gaps->back();
    if (last.kind == OpKind::kInsert && last.seq + last.len == seq &&
        len <= kMaxSpanLen - last.len) {
      last.len += len;
      last.gaps_through += len;
      return;
    }
  }
  gaps->push_back({seq, len, before + len, OpKind::kInsert, false, kNoId});
}

WEFT_INLINE void TextDoc::LogDelete(std::vector<GapRun>* gaps, uint32_t seq,
                                    uint32_t len, bool reversed, Id target) {
  if (len == 1) reversed = false;
  const uint32_t before = gaps->empty() ? 0 : gaps->back().gaps_through;
  if (!gaps->empty()) {
    GapRun& last = gaps->back();
    if (last.kind == OpKind::kDelete && last.seq + last.len == seq &&
        last.a.agent == target.agent && len <= kMaxSpanLen - last.len) {
      bool last_fwd = !last.reversed || last.len == 1;
      bool last_rev = last.reversed || last.len == 1;
      bool r_fwd = !reversed;
      bool r_rev = reversed || len == 1;
      if (last_fwd && r_fwd &&
          uint64_t{target.seq} == uint64_t{last.a.seq} + last.len) {
        last.reversed = false;
        last.len += len;
        last.gaps_through += len;
        return;
      }
      if (last_rev && r_rev &&
          int64_t{target.seq} == int64_t{last.a.seq} - int64_t{last.len}) {
        last.reversed = true;
        last.len += len;
        last.gaps_through += len;
        return;
      }
    }
  }
  gaps->push_back({seq, len, before + len, OpKind::kDelete, reversed, target});
}

void TextDoc::DropLoadedText() {
  if (!has_loaded_text_) return;
  has_loaded_text_ = false;
  std::string().swap(loaded_text_);
}

void TextDoc::CountOps(Agent& ag, uint32_t next_seq) {
  const uint32_t added = next_seq - ag.next_seq;
  const bool first = ag.next_seq == 0;
  total_ops_ += added;
  ag.next_seq = next_seq;
  // Told last: the text is whole whatever the listener does.
  if (ops_listener_ && added != 0) ops_listener_(ag.client, added, first);
}

void TextDoc::RecordInsert(uint32_t agent, uint32_t seq, uint32_t len,
                           const std::string_view* content) {
  DropLoadedText();
  Agent& ag = agents_[agent];
  CountOps(ag, seq + len);
  if (content != nullptr) {
    ag.text.Append(*content, len);
    return;
  }
  LogElided(&ag.gaps, seq, len);
}

void TextDoc::RecordDelete(uint32_t agent, uint32_t seq, OpRun r) {
  DropLoadedText();
  Agent& ag = agents_[agent];
  CountOps(ag, seq + r.len);
  LogDelete(&ag.gaps, seq, r.len, r.reversed, r.a);
}

Status TextDoc::Insert(uint64_t pos, std::string_view utf8) {
  if (pos > length()) return Status::InvalidArgument("insert past the end");
  uint64_t n = 1;  // one typed ASCII character needs no validation
  if (utf8.size() != 1 || static_cast<unsigned char>(utf8[0]) >= 0x80) {
    auto count = CountCodePoints(utf8);
    if (!count.ok()) return Status::InvalidArgument(count.status().message());
    n = *count;
  }
  if (n == 0) return Status::Ok();
  Agent& me = agents_[my_agent_];
  if (uint64_t{me.next_seq} + n >= UINT32_MAX) {
    return Status::ResourceExhausted("client sequence numbers exhausted");
  }
  if (n > kMaxSpanLen) {
    return Status::ResourceExhausted("more than 2^31 - 1 characters at once");
  }
  ContentTree::Cursor c = tree_.FindVisible(pos);
  Id ol = tree_.IdBefore(c);
  Id orr = tree_.IdAt(c);
  const uint32_t seq = me.next_seq;
  Span span{{my_agent_, seq}, ol, orr, static_cast<uint32_t>(n) << 1};
  tree_.Insert(c, span);
  RecordInsert(my_agent_, seq, static_cast<uint32_t>(n), &utf8);
  return Status::Ok();
}

Status TextDoc::Delete(uint64_t pos, uint64_t len) {
  if (pos > length() || len > length() - pos) {
    return Status::InvalidArgument("delete past the end");
  }
  if (uint64_t{agents_[my_agent_].next_seq} + len >= UINT32_MAX) {
    return Status::ResourceExhausted("client sequence numbers exhausted");
  }
  while (len > 0) {
    ContentTree::Cursor c = tree_.FindVisible(pos);
    Id t = tree_.IdAt(c);
    bool vis;
    uint32_t k = tree_.MarkDeleted(
        c, static_cast<uint32_t>(std::min<uint64_t>(len, UINT32_MAX)), &vis);
    Agent& me = agents_[my_agent_];
    OpRun r{0, k, OpKind::kDelete, false, 0, t, kNoId};
    if (!me.gaps.empty() && k > 1) {
      const GapRun& last = me.gaps.back();
      if (last.kind == OpKind::kDelete && last.seq + last.len == me.next_seq &&
          last.a.agent == t.agent && (last.reversed || last.len == 1) &&
          int64_t{t.seq} + k == int64_t{last.a.seq} - int64_t{last.len} + 1) {
        r.reversed = true;
        r.a.seq = t.seq + k - 1;
      }
    }
    RecordDelete(my_agent_, me.next_seq, r);
    len -= k;
  }
  return Status::Ok();
}

StateVector TextDoc::GetStateVector() const {
  StateVector sv;
  for (const Agent& ag : agents_) {
    if (ag.next_seq > 0) sv[ag.client] = ag.next_seq;
  }
  return sv;
}

Result<TextAnchor> TextDoc::AnchorAt(uint64_t pos) {
  if (pos > tree_.visible_len()) {
    return Status::InvalidArgument(
        "anchor position beyond the end of the text");
  }
  if (pos == 0 && tree_.visible_len() == 0) {
    return TextAnchor{0, 0, false, true};
  }
  bool after = pos == tree_.visible_len();
  Id id = tree_.IdAt(tree_.FindVisible(after ? pos - 1 : pos));
  return TextAnchor{agents_[id.agent].client, id.seq, after, false};
}

std::optional<uint64_t> TextDoc::ResolveAnchor(const TextAnchor& anchor) const {
  if (anchor.end) return tree_.visible_len();
  auto it = agent_of_.find(anchor.client);
  if (it == agent_of_.end()) return std::nullopt;
  Id id{it->second, anchor.seq};
  if (!Known(id)) return std::nullopt;
  auto cursor = tree_.FindId(id);
  if (!cursor) return std::nullopt;
  uint64_t pos = tree_.VisiblePos(*cursor);
  if (anchor.after) {
    ContentTree::Cursor c = *cursor;
    if (ContentTree::Normalize(&c) && !c.leaf->spans[c.idx].deleted()) ++pos;
  }
  return pos;
}

uint64_t TextDoc::OpCount(uint64_t client) const {
  auto it = agent_of_.find(client);
  return it == agent_of_.end() ? 0 : agents_[it->second].next_seq;
}

uint64_t TextDoc::TotalOpCount() const { return total_ops_; }

std::string TextDoc::EncodeStateVector() const {
  return core::EncodeStateVector(GetStateVector());
}

namespace {
// Agents with operations, sorted by client id; and agent -> table index.
template <typename Agents>
std::vector<uint32_t> ClientTable(const Agents& agents,
                                  std::vector<uint32_t>* table_index) {
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < agents.size(); ++i) {
    if (agents[i].next_seq > 0) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return agents[a].client < agents[b].client;
  });
  table_index->assign(agents.size(), 0);
  for (uint32_t i = 0; i < order.size(); ++i) (*table_index)[order[i]] = i;
  return order;
}
}  // namespace

// The clients an update names, in the order its runs first name them; the
// table holds those only, so an update's size does not grow with the number
// of clients the document has ever had.
struct TextDoc::UpdateTable {
  // Looked up by a scan while the table is short (an update of a few local
  // edits), so that encoding it does not cost the document's client count;
  // by `index` once it is long.
  static constexpr size_t kScan = 16;
  explicit UpdateTable(size_t nagents) : nagents(nagents) {}
  uint32_t operator()(uint32_t agent) {
    if (index.empty()) {
      for (uint32_t i = 0; i < agents.size(); ++i) {
        if (agents[i] == agent) return i;
      }
      agents.push_back(agent);
      if (agents.size() > kScan) Reindex();
      return static_cast<uint32_t>(agents.size() - 1);
    }
    uint32_t& i = index[agent];
    if (i == 0) {
      agents.push_back(agent);
      i = static_cast<uint32_t>(agents.size());
    }
    return i - 1;
  }
  // After `agents` was reordered.
  void Reindex() {
    if (agents.size() <= kScan) return;
    index.assign(nagents, 0);
    for (uint32_t i = 0; i < agents.size(); ++i) index[agents[i]] = i + 1;
  }
  size_t nagents;
  std::vector<uint32_t> index;   // agent -> table index + 1; 0: not named
  std::vector<uint32_t> agents;  // the table
};

void TextDoc::EncodeGap(uint32_t agent, const GapRun& gap, uint32_t from,
                        uint32_t to, UpdateTable* table, uint32_t* count,
                        std::string* out) const {
  const uint32_t s = std::max(from, gap.seq);
  const uint32_t e = std::min(to, gap.seq + gap.len);
  if (s >= e) return;
  if (gap.kind == OpKind::kInsert) {
    EncodeInserts(agent, s, e, false, table, count, out);
    return;
  }
  const uint32_t d = s - gap.seq;
  const uint32_t len = e - s;
  ByteWriter w;
  w.VarUint((*table)(agent));
  w.VarUint(s);
  w.VarUint(len);
  Id t = gap.a;
  t.seq = gap.reversed ? gap.a.seq - d : gap.a.seq + d;
  w.U8(gap.reversed && len > 1 ? kRunDeleteReversed : kRunDelete);
  PutId(&w, t, table);
  out->append(w.buffer());
  ++*count;
}

// The insert runs of [from, to) are rebuilt from the spans holding those
// ids: a span's first character has its recorded left origin, the others
// their predecessor, and all share the span's right origin. Pieces that
// continue each other merge into one run, exactly as RecordInsert used to
// merge them when it logged inserts, so the bytes are the same as then.
void TextDoc::EncodeInserts(uint32_t agent, uint32_t from, uint32_t to,
                            bool text, UpdateTable* table, uint32_t* count,
                            std::string* out) const {
  uint32_t run_seq = from;
  uint32_t run_len = 0;
  Id run_ol = kNoId;
  Id run_or = kNoId;
  auto flush = [&] {
    if (run_len == 0) return;
    ByteWriter w;
    w.VarUint((*table)(agent));
    w.VarUint(run_seq);
    w.VarUint(run_len);
    w.U8(text ? kRunInsert : kRunInsertDeleted);
    PutId(&w, run_ol, table);
    PutId(&w, run_or, table);
    if (text) {
      const Agent& ag = agents_[agent];
      w.LengthPrefixed(ag.text.Slice(TextOffset(ag, run_seq), run_len));
    }
    out->append(w.buffer());
    ++*count;
  };
  for (uint32_t s = from; s < to;) {
    auto c = tree_.FindId({agent, s});
    WEFT_CHECK_MSG(c.has_value(), "logged insert missing from the tree");
    const Span& sp = c->leaf->spans[c->idx];
    const uint32_t k = std::min(sp.len() - c->off, to - s);
    const Id ol = c->off == 0 ? sp.origin_left : Id{agent, s - 1};
    if (run_len > 0 && k <= kMaxSpanLen - run_len && ol == Id{agent, s - 1} &&
        sp.origin_right == run_or) {
      run_len += k;
    } else {
      flush();
      run_seq = s;
      run_len = k;
      run_ol = ol;
      run_or = sp.origin_right;
    }
    s += k;
  }
  flush();
}

std::string TextDoc::EncodeDiff(const StateVector& have) const {
  return EncodeDiff(have, GetStateVector());
}

std::string TextDoc::EncodeDiff(const StateVector& have,
                                const StateVector& upto) const {
  // The clients with ids in [have, upto), in client order, with their range.
  std::vector<DiffRange> ranges;
  for (uint32_t a = 0; a < agents_.size(); ++a) {
    const Agent& ag = agents_[a];
    auto hit = have.find(ag.client);
    uint32_t from = hit == have.end() ? 0 : hit->second;
    auto uit = upto.find(ag.client);
    uint32_t to = uit == upto.end() ? 0 : std::min(uit->second, ag.next_seq);
    if (from < to) ranges.push_back({a, from, to});
  }
  std::sort(ranges.begin(), ranges.end(),
            [&](const DiffRange& x, const DiffRange& y) {
              return agents_[x.agent].client < agents_[y.agent].client;
            });
  return EncodeRanges(ranges);
}

std::string TextDoc::EncodeClientDiff(uint64_t client, uint32_t from) const {
  std::vector<DiffRange> ranges;
  auto it = agent_of_.find(client);
  if (it != agent_of_.end() && from < agents_[it->second].next_seq) {
    ranges.push_back({it->second, from, agents_[it->second].next_seq});
  }
  return EncodeRanges(ranges);
}

std::string TextDoc::EncodeRanges(const std::vector<DiffRange>& ranges) const {
  auto by_client = [&](uint32_t x, uint32_t y) {
    return agents_[x].client < agents_[y].client;
  };
  auto encode_runs = [&](UpdateTable* table, std::string* runs) {
    uint32_t count = 0;
    for (const DiffRange& r : ranges) {
      const Agent& ag = agents_[r.agent];
      // Gaps in order, and the inserts with text between them.
      auto it = std::upper_bound(
          ag.gaps.begin(), ag.gaps.end(), r.from,
          [](uint32_t s, const GapRun& g) { return s < g.seq; });
      if (it != ag.gaps.begin() &&
          std::prev(it)->seq + std::prev(it)->len > r.from) {
        --it;
      }
      for (uint32_t s = r.from; s < r.to;) {
        if (it != ag.gaps.end() && it->seq <= s) {
          EncodeGap(r.agent, *it, s, r.to, table, &count, runs);
          s = it->seq + it->len;
          ++it;
          continue;
        }
        const uint32_t e = it != ag.gaps.end() ? std::min(r.to, it->seq) : r.to;
        EncodeInserts(r.agent, s, e, true, table, &count, runs);
        s = e;
      }
    }
    return count;
  };
  // The table is in client order (one canonical encoding). It starts with
  // the clients whose runs are listed, already in order; the runs add the
  // clients of origins and targets outside them. Only when one of those
  // breaks the order are the runs written again with the sorted table
  // (every client is in it by then, so it does not change).
  UpdateTable table(agents_.size());
  for (const DiffRange& r : ranges) table(r.agent);
  std::string runs;
  uint32_t count = encode_runs(&table, &runs);
  if (!std::is_sorted(table.agents.begin(), table.agents.end(), by_client)) {
    std::sort(table.agents.begin(), table.agents.end(), by_client);
    table.Reindex();
    runs.clear();
    count = encode_runs(&table, &runs);
  }
  ByteWriter w;
  w.U8(kFormatVersion);
  w.U8(kKindUpdate);
  w.VarUint(table.agents.size());
  for (uint32_t a : table.agents) w.VarUint(agents_[a].client);
  w.VarUint(count);
  w.buffer().append(runs);
  return w.Take();
}

Result<std::string> TextDoc::EncodeDiffBytes(
    std::string_view state_vector) const {
  auto sv = DecodeStateVector(state_vector);
  if (!sv.ok()) return sv.status();
  return EncodeDiff(*sv);
}

std::string TextDoc::EncodeClientStateVector(uint64_t client) const {
  return core::EncodeStateVector(
      SingleClientStateVector(client, OpCount(client)));
}

Result<std::string> TextDoc::EncodeClientDiffBytes(
    uint64_t client, std::string_view state_vector) const {
  auto sv = DecodeStateVector(state_vector);
  if (!sv.ok()) return sv.status();
  auto it = sv->find(client);
  return EncodeClientDiff(client, it == sv->end() ? 0 : it->second);
}

int TextDoc::CompareIds(Id a, Id b) const {
  auto ca = tree_.FindId(a);
  auto cb = tree_.FindId(b);
  if (!ca || !cb) return 2;  // unknown: reported as corruption by callers
  return ContentTree::Compare(*ca, *cb);
}

Status TextDoc::IntegrateInsert(uint32_t agent, const OpRun& run,
                                const std::string& content,
                                std::vector<TextChange>* changes) {
  const Id ol = run.a;
  const Id orr = run.b;
  ContentTree::Cursor left;
  if (ol.none()) {
    left = tree_.Begin();
  } else {
    auto c = tree_.FindId(ol);
    if (!c) return Status::Corruption("left origin is not an inserted char");
    left = ContentTree::Advance(*c);
  }
  if (!orr.none()) {
    auto c = tree_.FindId(orr);
    if (!c) return Status::Corruption("right origin is not an inserted char");
    if (ContentTree::Compare(*c, left) < 0) {
      return Status::Corruption("right origin precedes left origin");
    }
  }
  const uint64_t my_client = agents_[agent].client;
  ContentTree::Cursor i = left;
  ContentTree::Cursor dest = left;
  bool scanning = false;
  while (true) {
    if (!scanning) dest = i;
    if (!ContentTree::Normalize(&i)) break;
    if (scan_left_ == 0) {
      return Status::ResourceExhausted(
          "an update whose inserts take too long to place");
    }
    --scan_left_;
    const Span& sp = i.leaf->spans[i.idx];
    const Id item{sp.id.agent, sp.id.seq + i.off};
    if (item == orr) break;
    const Id oleft = i.off == 0 ? sp.origin_left : Id{item.agent, item.seq - 1};
    const Id oright = sp.origin_right;
    // Order of the other item's left origin against ours (none = start).
    int cl;
    if (oleft == ol) {
      cl = 0;
    } else if (oleft.none()) {
      cl = -1;
    } else if (ol.none()) {
      cl = 1;
    } else {
      cl = CompareIds(oleft, ol);
      if (cl == 2) return Status::Corruption("dangling origin");
    }
    if (cl < 0) break;
    if (cl == 0) {
      int cr;
      if (oright == orr) {
        cr = 0;
      } else if (oright.none()) {
        cr = 1;
      } else if (orr.none()) {
        cr = -1;
      } else {
        cr = CompareIds(oright, orr);
        if (cr == 2) return Status::Corruption("dangling origin");
      }
      if (cr < 0) {
        scanning = true;
      } else if (cr == 0) {
        if (my_client < agents_[sp.id.agent].client) break;
        scanning = false;
      } else {
        scanning = false;
      }
    }
    // The rest of this span has left origins inside it (after ours): skip
    // it, stopping at our right origin if it lies there.
    if (orr.agent == sp.id.agent && orr.seq > item.seq &&
        orr.seq - sp.id.seq < sp.len()) {
      i.off = orr.seq - sp.id.seq;
      if (!scanning) dest = i;
      break;
    }
    ++i.idx;
    i.off = 0;
  }
  const bool elided = run.content == kElided;
  Span span{{agent, run.seq}, ol, orr, (run.len << 1) | (elided ? 1u : 0u)};
  ContentTree::Cursor at = tree_.Insert(dest, span);
  if (changes != nullptr && !elided) {
    TextChange ch;
    ch.pos = tree_.VisiblePos(at);
    ch.inserted = content;
    changes->push_back(std::move(ch));
  }
  const std::string_view text = content;
  RecordInsert(agent, run.seq, run.len, elided ? nullptr : &text);
  return Status::Ok();
}

Status TextDoc::ApplyRemoteDelete(uint32_t agent, const OpRun& run,
                                  std::vector<TextChange>* changes) {
  const uint32_t ta = run.a.agent;
  const uint32_t lo = run.reversed ? run.a.seq - (run.len - 1) : run.a.seq;
  for (uint32_t s = lo, rem = run.len; rem > 0;) {
    auto c = tree_.FindId({ta, s});
    if (!c) return Status::Corruption("delete of a char never inserted");
    uint32_t k = std::min(rem, c->leaf->spans[c->idx].len() - c->off);
    s += k;
    rem -= k;
  }
  for (uint32_t s = lo, rem = run.len; rem > 0;) {
    ContentTree::Cursor c = *tree_.FindId({ta, s});
    uint64_t pos = changes != nullptr ? tree_.VisiblePos(c) : 0;
    bool vis;
    uint32_t k = tree_.MarkDeleted(c, rem, &vis);
    if (vis && changes != nullptr) {
      if (!changes->empty() && changes->back().pos == pos &&
          changes->back().inserted.empty()) {
        changes->back().deleted += k;
      } else {
        changes->push_back({pos, k, {}});
      }
    }
    s += k;
    rem -= k;
  }
  RecordDelete(agent, run.seq, run);
  return Status::Ok();
}

Result<TextDoc::ApplyState> TextDoc::TryApply(
    PendingRun* p, std::vector<TextChange>* changes) {
  Agent& ag = agents_[p->agent];
  OpRun& run = p->run;
  if (uint64_t{run.seq} + run.len <= ag.next_seq) {
    return ApplyState::kDuplicate;
  }
  if (run.seq > ag.next_seq) return ApplyState::kNotReady;
  const uint32_t d = ag.next_seq - run.seq;
  if (d > 0) {
    run.seq += d;
    run.len -= d;
    if (run.kind == OpKind::kInsert) {
      run.a = {p->agent, run.seq - 1};
      if (run.content != kElided) {
        p->content.erase(0, Utf8Text::Skip(p->content, 0, d));
      }
    } else {
      run.a.seq = run.reversed ? run.a.seq - d : run.a.seq + d;
    }
  }
  if (run.kind == OpKind::kInsert) {
    if (!Known(run.a) || !Known(run.b)) return ApplyState::kNotReady;
    WEFT_RETURN_IF_ERROR(IntegrateInsert(p->agent, run, p->content, changes));
  } else {
    const uint32_t hi = run.reversed ? run.a.seq : run.a.seq + run.len - 1;
    if (!Known({run.a.agent, hi})) return ApplyState::kNotReady;
    WEFT_RETURN_IF_ERROR(ApplyRemoteDelete(p->agent, run, changes));
  }
  return ApplyState::kApplied;
}

Id TextDoc::Awaits(const PendingRun& p) const {
  const OpRun& run = p.run;
  if (run.seq > agents_[p.agent].next_seq) return {p.agent, run.seq - 1};
  if (run.kind == OpKind::kInsert) return Known(run.a) ? run.b : run.a;
  return {run.a.agent, run.reversed ? run.a.seq : run.a.seq + run.len - 1};
}

Result<std::vector<TextChange>> TextDoc::ApplyUpdate(std::string_view update,
                                                     bool report_changes) {
  ByteReader r(update);
  uint8_t version = 0, kind = 0;
  WEFT_RETURN_IF_ERROR(r.U8(&version));
  if (version != kFormatVersion) {
    return Status::Corruption("unsupported format version");
  }
  WEFT_RETURN_IF_ERROR(r.U8(&kind));
  if (kind != kKindUpdate) return Status::Corruption("not an update");
  scan_left_ =
      limits_.max_scan_steps != 0 ? limits_.max_scan_steps : UINT64_MAX;
  std::vector<uint64_t> clients;
  WEFT_RETURN_IF_ERROR(ReadClients(&r, &clients));
  const uint64_t nclients = clients.size();
  uint64_t nruns = 0;
  WEFT_RETURN_IF_ERROR(r.VarUintMax(r.remaining(), &nruns));
  std::vector<PendingRun> items;
  items.reserve(pending_.size() + nruns);
  for (uint64_t i = 0; i < nruns; ++i) {
    PendingRun p;
    uint64_t a = 0;
    if (nclients == 0) return Status::Corruption("run without clients");
    WEFT_RETURN_IF_ERROR(r.VarUintMax(nclients - 1, &a));
    p.agent = static_cast<uint32_t>(a);
    OpRun& run = p.run;
    WEFT_RETURN_IF_ERROR(r.U32(&run.seq));
    WEFT_RETURN_IF_ERROR(r.U32(&run.len));
    if (run.len == 0 || run.len > kMaxSpanLen ||
        uint64_t{run.seq} + run.len >= UINT32_MAX) {
      return Status::Corruption("bad run length");
    }
    uint8_t k = 0;
    WEFT_RETURN_IF_ERROR(r.U8(&k));
    run.reversed = false;
    run.content = 0;
    run.b = kNoId;
    if (k == kRunInsert || k == kRunInsertDeleted) {
      run.kind = OpKind::kInsert;
      WEFT_RETURN_IF_ERROR(GetId(&r, nclients, &run.a));
      WEFT_RETURN_IF_ERROR(GetId(&r, nclients, &run.b));
      if (k == kRunInsert) {
        std::string_view utf8;
        WEFT_RETURN_IF_ERROR(r.LengthPrefixed(&utf8));
        if (utf8.size() < run.len || utf8.size() > uint64_t{run.len} * 4) {
          return Status::Corruption("content length mismatch");
        }
        auto count = CountCodePoints(utf8);
        if (!count.ok()) return count.status();
        if (*count != run.len) {
          return Status::Corruption("content length mismatch");
        }
        p.content.assign(utf8);
      } else {
        run.content = kElided;
      }
    } else if (k == kRunDelete || k == kRunDeleteReversed) {
      run.kind = OpKind::kDelete;
      run.reversed = k == kRunDeleteReversed;
      WEFT_RETURN_IF_ERROR(GetId(&r, nclients, &run.a));
      if (run.a.none()) return Status::Corruption("delete without target");
      if (run.reversed ? run.a.seq < run.len - 1
                       : uint64_t{run.a.seq} + run.len >= UINT32_MAX) {
        return Status::Corruption("delete target out of range");
      }
    } else {
      return Status::Corruption("unknown run kind");
    }
    items.push_back(std::move(p));
  }
  if (!r.AtEnd()) return Status::Corruption("trailing bytes");

  // Map the message's client table to local agents: only the clients its
  // runs name (an agent is kept for good, and a table of 200,000 unused
  // clients grew a document by 37 MB).
  // (Agents made here that end up with no operation and no waiting run
  // naming them go again: DropNewUnusedAgents.)
  const size_t agents_before = agents_.size();
  constexpr uint32_t kUnmapped = UINT32_MAX;
  std::vector<uint32_t> local(clients.size(), kUnmapped);
  auto map = [&](uint32_t i) {
    if (local[i] == kUnmapped) local[i] = AgentFor(clients[i]);
    return local[i];
  };
  auto remap = [&](Id* id) {
    if (!id->none()) id->agent = map(id->agent);
  };
  for (PendingRun& p : items) {
    p.agent = map(p.agent);
    remap(&p.run.a);
    remap(&p.run.b);
  }
  for (PendingRun& p : pending_) items.push_back(std::move(p));
  pending_.clear();

  // Apply agent by agent in seq order, looping while anything progresses.
  // The queues are ranges of `order` (item indexes sorted by agent, then
  // seq), one per agent the items name: an update costs nothing per agent
  // it does not touch (a document with hundreds of writers gets updates
  // from one of them at a time).
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const PendingRun& a = items[x];
    const PendingRun& b = items[y];
    return a.agent != b.agent ? a.agent < b.agent : a.run.seq < b.run.seq;
  });
  struct Queue {
    size_t head, end;  // the queue is order[head, end)
  };
  std::vector<Queue> queues;
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && items[order[j]].agent == items[order[i]].agent)
      ++j;
    queues.push_back({i, j});
    i = j;
  }
  std::vector<TextChange> changes;
  std::vector<TextChange>* ch = report_changes ? &changes : nullptr;
  Status failure;
  // A queue whose head waits is parked under the agent of the id it
  // awaits, by that id's seq, and tried again once that agent's ops pass
  // it. (Passes over every queue until none progressed took one pass per
  // link of a chain of clients each waiting on the next: quadratic, a
  // minute for one hostile 1 MB update.)
  using Parked = std::pair<uint32_t, size_t>;  // (awaited seq, queue)
  std::unordered_map<uint32_t, std::priority_queue<Parked, std::vector<Parked>,
                                                   std::greater<Parked>>>
      parked;
  std::vector<size_t> ready(queues.size());
  for (size_t a = 0; a < ready.size(); ++a) ready[a] = queues.size() - 1 - a;
  while (!ready.empty() && failure.ok()) {
    Queue& q = queues[ready.back()];
    const size_t qi = ready.back();
    ready.pop_back();
    while (q.head < q.end) {
      PendingRun& p = items[order[q.head]];
      auto st = TryApply(&p, ch);
      if (!st.ok()) {
        failure = st.status();
        ++q.head;  // drop the bad run
        break;
      }
      if (*st == ApplyState::kNotReady) {
        const Id need = Awaits(p);
        parked[need.agent].push({need.seq, qi});
        break;
      }
      ++q.head;
      if (*st == ApplyState::kApplied) {
        auto it = parked.find(p.agent);
        if (it == parked.end()) continue;
        auto& waiting = it->second;
        const uint32_t next = agents_[p.agent].next_seq;
        while (!waiting.empty() && waiting.top().first < next) {
          ready.push_back(waiting.top().second);
          waiting.pop();
        }
      }
    }
  }
  // What did not apply waits (up to max_pending_runs).
  Status held;
  for (const Queue& q : queues) {
    for (size_t j = q.head; j < q.end && held.ok(); ++j) {
      if (pending_.size() >= limits_.max_pending_runs) {
        held = Status::ResourceExhausted("too many pending operations");
      } else {
        pending_.push_back(std::move(items[order[j]]));
      }
    }
  }
  DropNewUnusedAgents(agents_before);
  WEFT_RETURN_IF_ERROR(held);
  if (!failure.ok()) return failure;
  return changes;
}

void TextDoc::DropNewUnusedAgents(size_t keep) {
  if (agents_.size() <= keep) return;
  size_t named = keep;  // agents below this one are named by waiting runs
  auto name = [&](uint32_t agent) {
    named = std::max<size_t>(named, size_t{agent} + 1);
  };
  for (const PendingRun& p : pending_) {
    name(p.agent);
    if (!p.run.a.none()) name(p.run.a.agent);
    if (!p.run.b.none()) name(p.run.b.agent);
  }
  while (agents_.size() > named && agents_.back().next_seq == 0) {
    agent_of_.erase(agents_.back().client);
    agents_.pop_back();
  }
  if (agents_.capacity() > 2 * agents_.size() + 64) agents_.shrink_to_fit();
}

std::string TextDoc::EncodeSnapshot() const {
  std::vector<uint32_t> table_index;
  std::vector<uint32_t> order = ClientTable(agents_, &table_index);
  ByteWriter w;
  w.U8(kSnapshotVersion);
  w.U8(kKindSnapshot);
  w.VarUint(order.size());
  for (uint32_t a : order) w.VarUint(agents_[a].client);
  std::string text = Text();
  std::string packed = LzCompress(text);
  if (packed.size() < text.size() &&
      text.size() <= MaxLzExpansion(packed.size())) {
    w.U8(kTextLz);
    w.VarUint(text.size());
    w.LengthPrefixed(packed);
  } else {
    w.U8(kTextRaw);
    w.LengthPrefixed(text);
  }

  // Spans in document order, merged into maximal runs (canonical form).
  std::vector<Span> spans;
  spans.reserve(tree_.span_count());
  for (const auto* l = tree_.first_leaf(); l != nullptr; l = l->next) {
    for (int i = 0; i < l->n; ++i) {
      const Span& s = l->spans[i];
      if (!spans.empty() && spans.back().CanAppend(s)) {
        spans.back().set_len(spans.back().len() + s.len());
      } else {
        spans.push_back(s);
      }
    }
  }
  w.VarUint(spans.size());
  std::vector<uint32_t> prev_end(agents_.size(), 0);
  for (size_t i = 0; i < spans.size(); ++i) {
    const Span& s = spans[i];
    uint32_t ol_mode = 3;
    if (s.origin_left.none()) {
      ol_mode = 0;
    } else if (i > 0 && s.origin_left == spans[i - 1].last()) {
      ol_mode = 1;
    } else if (s.id.seq > 0 && s.origin_left == Id{s.id.agent, s.id.seq - 1}) {
      ol_mode = 2;
    }
    uint32_t or_mode = 3;
    if (s.origin_right.none()) {
      or_mode = 0;
    } else if (i + 1 < spans.size() && s.origin_right == spans[i + 1].id) {
      or_mode = 1;
    } else if (i > 0 && s.origin_right == spans[i - 1].origin_right) {
      or_mode = 2;
    }
    w.VarUint((uint64_t{s.len()} << 5) | (s.deleted() ? 16 : 0) |
              (ol_mode << 2) | or_mode);
    PutClient(&w, table_index[s.id.agent], order.size());
    w.VarSint(int64_t{s.id.seq} - int64_t{prev_end[s.id.agent]});
    prev_end[s.id.agent] = s.id.seq + s.len();
    if (ol_mode == 3) {
      PutRelId(&w, s.origin_left, s.id.seq, table_index, order.size());
    }
    if (or_mode == 3) {
      PutRelId(&w, s.origin_right, s.id.seq, table_index, order.size());
    }
  }

  ByteWriter d;
  uint32_t ndel = 0;
  uint32_t prev_target = 0;
  for (uint32_t a : order) {
    for (const GapRun& op : agents_[a].gaps) {
      if (op.kind != OpKind::kDelete) continue;
      PutClient(&d, table_index[a], order.size());
      d.VarUint((uint64_t{op.len} << 1) | (op.reversed ? 1 : 0));
      PutRelId(&d, op.a, prev_target, table_index, order.size());
      prev_target = op.a.seq;
      ++ndel;
    }
  }
  std::string dels = d.Take();
  w.VarUint(ndel);
  w.buffer().append(dels);
  return w.Take();
}

namespace {

// Sorts keys (seq << 32 | index) of ascending index by seq, stably: the
// same order as sorting the integers. LSD radix sort on the seq's bytes
// that vary, 11 bits a pass; `tmp` holds n keys.
[[gnu::noinline]] void SortBySeq(uint64_t* keys, size_t n, uint64_t* tmp) {
  if (std::is_sorted(keys, keys + n)) return;
  if (n < 256) {
    std::sort(keys, keys + n);
    return;
  }
  uint64_t all = 0;
  for (size_t i = 0; i < n; ++i) all |= keys[i];
  const auto seq_bits = static_cast<uint32_t>(all >> 32);
  constexpr int kBits = 11;
  constexpr size_t kBuckets = size_t{1} << kBits;
  uint64_t* from = keys;
  uint64_t* to = tmp;
  for (int shift = 32; shift < 64 && (seq_bits >> (shift - 32)) != 0;
       shift += kBits) {
    size_t count[kBuckets] = {};
    for (size_t i = 0; i < n; ++i) ++count[(from[i] >> shift) & (kBuckets - 1)];
    size_t sum = 0;
    for (size_t& c : count) {
      const size_t k = c;
      c = sum;
      sum += k;
    }
    for (size_t i = 0; i < n; ++i) {
      to[count[(from[i] >> shift) & (kBuckets - 1)]++] = from[i];
    }
    std::swap(from, to);
  }
  if (from != keys) std::copy(from, from + n, keys);
}

// `f` read back through a volatile variable: no optimizer can see which
// function a call through it reaches, so the callee stays a function of
// its own in the WebAssembly build too (Binaryen inlines every function
// that has a single direct caller, whatever its size). The snapshot
// loader calls its steps this way: V8 optimizes each within milliseconds
// of running hot, where the one 20 KiB function they made took ~90 ms to
// compile while the loads meanwhile ran baseline code.
template <typename F>
F Opaque(F f) {
  volatile F v = f;
  return v;
}

// n elements left uninitialized (every one is written before it is
// read); n is bounded by the input's size.
template <typename T>
std::unique_ptr<T[]> Uninitialized(uint64_t n) {
  return std::unique_ptr<T[]>(new T[n]);
}

}  // namespace

// LoadSnapshot's steps. One pass over the bytes streams the spans into
// the tree; then, per client, the spans in seq order (a radix sort of
// packed integers) and the delete runs must tile [0, next_seq) while the
// id index, the text and the gap log are appended in seq order. Every
// length is checked against the bytes left before anything is sized by
// it. Each step is its own function (see Opaque): a JIT (V8 for the
// WASM build) optimizes small hot functions much sooner than one large
// one.
class TextDoc::SnapshotLoader {
 public:
  SnapshotLoader(std::string_view snapshot, TextDoc* doc, bool keep_text)
      : r_(snapshot), doc_(doc), tree_(doc->tree_), keep_text_(keep_text) {}

  Status Load() {
    WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::ReadHeader))());
    if (version_ == kSnapshotVersionTextLast) {
      WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::ReadSpans<true>))());
      WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::ReadText))());
    } else {
      WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::ReadText))());
      WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::ReadSpans<true>))());
    }
    WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::MatchText))());
    WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::ReadDeletes))());
    if (!r_.AtEnd()) return Status::Corruption("trailing bytes");
    WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::BuildClients))());
    tree_.FinishBulk();
    for (Agent& ag : doc_->agents_) ag.gaps.shrink_to_fit();
    if (keep_text_) {
      if (text_.data() == unpacked_.data()) {
        doc_->loaded_text_ = std::move(unpacked_);
      } else {
        doc_->loaded_text_.assign(text_);
      }
      doc_->has_loaded_text_ = true;
    }
    return Status::Ok();
  }

  // The header and the text (and, in version 1, where the spans come
  // first, the spans' checks): no build.
  Status PeekText(PeekedText* out) {
    WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::ReadHeader))());
    if (version_ == kSnapshotVersionTextLast) {
      WEFT_RETURN_IF_ERROR(
          (this->*Opaque(&SnapshotLoader::ReadSpans<false>))());
      WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::ReadText))());
      WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::MatchText))());
    } else {
      WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::ReadText))());
    }
    if (text_.data() == unpacked_.data()) {
      out->utf8 = std::move(unpacked_);
    } else {
      out->utf8.assign(text_);
    }
    out->length = text_code_points_;
    return Status::Ok();
  }

 private:
  struct Del {
    uint32_t table;  // client (table index)
    uint32_t len;
    bool reversed;
    Id target;
  };

  // A client's table index: absent when the table has one client.
  WEFT_INLINE uint32_t Client(BulkReader& r) const {
    return nclients_ == 1 ? 0
                          : static_cast<uint32_t>(r.VarUintMax(nclients_ - 1));
  }
  WEFT_INLINE Id RelId(BulkReader& r, uint32_t base) const {
    const uint32_t a = Client(r);
    return Id{local_[a], r.SeqDelta(base)};
  }

  [[gnu::noinline]] Status ReadHeader() {
    version_ = r_.U8();
    if (r_.failed()) return r_.status();
    if (version_ != kSnapshotVersion && version_ != kSnapshotVersionTextLast) {
      return Status::Corruption("unsupported format version");
    }
    const uint8_t kind = r_.U8();
    if (r_.failed()) return r_.status();
    if (kind != kKindSnapshot) return Status::Corruption("not a snapshot");
    nclients_ = r_.VarUintMax(r_.remaining());
    if (r_.failed()) return r_.status();
    local_.resize(nclients_);
    uint64_t prev = 0;
    for (uint64_t i = 0; i < nclients_; ++i) {
      const uint64_t c = r_.VarUint();
      if (r_.failed()) return r_.status();
      if (i > 0 && c <= prev) {
        return Status::Corruption("client table not sorted");
      }
      prev = c;
      local_[i] = doc_->AgentFor(c);
    }
    return Status::Ok();
  }

  // kBuild false: the same checks, nothing stored (PeekText).
  template <bool kBuild>
  [[gnu::noinline]] Status ReadSpans() {
    BulkReader r = r_;  // local copies stay in registers
    nspans_ = r.VarUintMax(r.remaining() / 2);
    if (r.failed()) return r.status();
    const uint64_t n = nspans_;
    if (n > 0 && nclients_ == 0) return Status::Corruption("no clients");
    if (kBuild) {
      if (nclients_ > 1) table_of_ = Uninitialized<uint32_t>(n);
      keys_ = Uninitialized<uint64_t>(n);
      len_del_ = Uninitialized<uint32_t>(n);
      leaf_of_ = Uninitialized<ContentTree::Leaf*>(n);
      text_at_ = Uninitialized<uint64_t>(n + 1);
    }
    spans_of_.assign(nclients_, 0);
    deleted_spans_of_.assign(nclients_, 0);
    std::vector<uint32_t> prev_end_of(nclients_, 0);
    uint32_t* const table_of = table_of_.get();
    uint64_t* const keys = keys_.get();
    uint32_t* const len_del = len_del_.get();
    ContentTree::Leaf** const leaf_of = leaf_of_.get();
    uint64_t* const text_at = text_at_.get();
    uint32_t* const spans_of = spans_of_.data();
    uint32_t* const deleted_spans_of = deleted_spans_of_.data();
    uint32_t* const prev_end = prev_end_of.data();
    const uint32_t* const local = local_.data();
    const bool one_client = nclients_ == 1;
    uint64_t visible = 0;
    // Span i - 1 waits until span i is read: its right origin may be i's
    // id.
    Span prev{};
    bool prev_or_next = false;
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t head = r.VarUint();
      const uint32_t a = Client(r);
      Span s;
      s.id = {local[a], r.SeqDelta(prev_end[a])};
      const uint64_t len = head >> 5;
      if (r.failed()) return r.status();
      if (len == 0 || len > kMaxSpanLen || s.id.seq + len >= UINT32_MAX) {
        return Status::Corruption("bad span length");
      }
      s.len_del = static_cast<uint32_t>(len << 1) | ((head >> 4) & 1);
      prev_end[a] = static_cast<uint32_t>(s.id.seq + len);
      switch ((head >> 2) & 3) {
        case 0:
          s.origin_left = kNoId;
          break;
        case 1:
          if (i == 0) return Status::Corruption("no previous span");
          s.origin_left = prev.last();
          break;
        case 2:
          if (s.id.seq == 0) return Status::Corruption("no predecessor");
          s.origin_left = {s.id.agent, s.id.seq - 1};
          break;
        default:
          s.origin_left = RelId(r, s.id.seq);
      }
      const uint32_t or_mode = head & 3;
      s.origin_right = kNoId;  // modes 0 and 1 (set when the next is read)
      if (or_mode == 2) {
        if (i == 0) return Status::Corruption("no previous span");
        s.origin_right = prev.origin_right;  // as read: kNoId if mode 1
      } else if (or_mode == 3) {
        s.origin_right = RelId(r, s.id.seq);
      }
      if (r.failed()) return r.status();
      if (kBuild && i > 0) {
        if (prev_or_next) prev.origin_right = s.id;
        leaf_of[i - 1] = tree_.BulkAppend(prev);
      }
      prev = s;
      prev_or_next = or_mode == 1;
      if (kBuild) {
        if (!one_client) table_of[i] = a;
        keys[i] = uint64_t{s.id.seq} << 32 | i;
        len_del[i] = s.len_del;
        text_at[i] = visible;
      }
      visible += s.visible_len();
      ++spans_of[a];
      deleted_spans_of[a] += s.len_del & 1;
    }
    if (n > 0) {
      if (prev_or_next) return Status::Corruption("no next span");
      if (kBuild) leaf_of[n - 1] = tree_.BulkAppend(prev);
    }
    if (kBuild) text_at[n] = visible;
    visible_ = visible;
    r_ = r;
    return Status::Ok();
  }

  [[gnu::noinline]] Status ReadText() {
    const uint8_t text_mode = r_.U8();
    if (r_.failed()) return r_.status();
    if (text_mode == kTextRaw) {
      text_ = r_.LengthPrefixed();
    } else if (text_mode == kTextLz) {
      const uint64_t raw_len = r_.VarUint();
      const std::string_view packed = r_.LengthPrefixed();
      if (r_.failed()) return r_.status();
      if (raw_len > MaxLzExpansion(packed.size())) {
        return Status::Corruption("text expands too much");
      }
      WEFT_RETURN_IF_ERROR(LzDecompress(packed, raw_len, &unpacked_));
      if (unpacked_.size() != raw_len) return Status::Corruption("text length");
      text_ = unpacked_;
    } else {
      return Status::Corruption("unknown text encoding");
    }
    if (r_.failed()) return r_.status();
    auto count = CountCodePoints(text_);
    if (!count.ok()) return count.status();
    text_code_points_ = *count;
    return Status::Ok();
  }

  // The spans' visible lengths against the text; their text offsets from
  // code points to bytes.
  [[gnu::noinline]] Status MatchText() {
    if (text_code_points_ != visible_) return Status::Corruption("text length");
    if (text_at_ != nullptr &&
        text_.size() != visible_) {  // not ASCII: code points -> bytes
      uint64_t cp = 0, byte = 0;
      for (uint64_t i = 0; i <= nspans_; ++i) {
        byte = Utf8Text::Skip(text_, byte, text_at_[i] - cp);
        cp = text_at_[i];
        text_at_[i] = byte;
      }
    }
    return Status::Ok();
  }

  [[gnu::noinline]] Status ReadDeletes() {
    BulkReader r = r_;
    ndels_ = r.VarUintMax(r.remaining() / 2);
    if (r.failed()) return r.status();
    const uint64_t n = ndels_;
    if (n > 0 && nclients_ == 0) return Status::Corruption("no clients");
    dels_ = Uninitialized<Del>(n);
    dels_of_.assign(nclients_, 0);
    Del* const dels = dels_.get();
    uint32_t* const dels_of = dels_of_.data();
    bool grouped = true;  // clients in table order, as the encoder writes
    uint32_t prev_table = 0;
    uint32_t prev_target = 0;
    for (uint64_t i = 0; i < n; ++i) {
      Del d;
      d.table = Client(r);
      const uint64_t lr = r.VarUint();
      const uint64_t len = lr >> 1;
      d.reversed = lr & 1;
      d.target = RelId(r, prev_target);
      if (r.failed()) return r.status();
      if (len == 0 || len >= UINT32_MAX) {
        return Status::Corruption("bad delete length");
      }
      d.len = static_cast<uint32_t>(len);
      prev_target = d.target.seq;
      if (d.reversed ? d.target.seq < len - 1
                     : d.target.seq + len >= UINT32_MAX) {
        return Status::Corruption("bad delete target");
      }
      grouped = grouped && d.table >= prev_table;
      prev_table = d.table;
      ++dels_of[d.table];
      dels[i] = d;
    }
    if (!grouped) {
      std::stable_sort(dels, dels + n, [](const Del& x, const Del& y) {
        return x.table < y.table;
      });
    }
    r_ = r;
    return Status::Ok();
  }

  // The spans grouped by client (in table order), then each client built.
  [[gnu::noinline]] Status BuildClients() {
    auto tmp = Uninitialized<uint64_t>(nspans_);
    if (nclients_ > 1) {
      std::vector<uint64_t> at(nclients_, 0);
      for (uint64_t a = 1; a < nclients_; ++a) {
        at[a] = at[a - 1] + spans_of_[a - 1];
      }
      for (uint64_t i = 0; i < nspans_; ++i) {
        tmp[at[table_of_[i]]++] = keys_[i];
      }
      std::swap(keys_, tmp);
    }
    std::vector<uint64_t> text_bytes_of(nclients_, 0);
    if (nclients_ == 1) {
      text_bytes_of[0] = text_.size();
    } else {
      for (uint64_t i = 0; i < nspans_; ++i) {
        text_bytes_of[table_of_[i]] += text_at_[i + 1] - text_at_[i];
      }
    }
    size_t first_key = 0;
    size_t first_del = 0;
    for (uint64_t a = 0; a < nclients_; ++a) {
      uint64_t* ks = keys_.get() + first_key;
      const size_t nks = spans_of_[a];
      const Del* ds = dels_.get() + first_del;
      const size_t nds = dels_of_[a];
      first_key += nks;
      first_del += nds;
      if (nks == 0 && nds == 0) {
        return Status::Corruption("client without operations");
      }
      Opaque (&SortBySeq)(ks, nks, tmp.get());
      WEFT_RETURN_IF_ERROR((this->*Opaque(&SnapshotLoader::BuildClient))(
          a, ks, nks, ds, nds, deleted_spans_of_[a] + nds, text_bytes_of[a]));
    }
    return Status::Ok();
  }

  // Client `a`: its spans' keys `ks` in seq order and its delete runs must
  // tile [0, next_seq): each delete run takes the next seqs that no insert
  // holds.
  [[gnu::noinline]] Status BuildClient(uint64_t a, const uint64_t* ks,
                                       size_t nks, const Del* ds, size_t nds,
                                       size_t max_gaps, uint64_t text_bytes) {
    const uint32_t agent = local_[a];
    const uint32_t* const len_del = len_del_.get();
    ContentTree::Leaf* const* const leaf_of = leaf_of_.get();
    const uint64_t* const text_at = text_at_.get();
    const char* const text_in = text_.data();
    const uint64_t text_in_size = text_.size();
    std::vector<GapRun> gaps;
    gaps.reserve(max_gaps);
    // Its visible spans' bytes in seq order (8 bytes of slack for
    // WildCopy).
    std::string text(text_bytes + 8, '\0');
    char* text_end = text.data();
    // The id index: each run of spans in one leaf, in seq order.
    auto index_seqs = Uninitialized<uint32_t>(nks);
    auto index_leaves = Uninitialized<ContentTree::Leaf*>(nks);
    size_t index_runs = 0;
    uint32_t index_end = 0;
    uint64_t code_points = 0;
    uint64_t expect = 0;
    size_t di = 0;
    for (size_t k = 0;; ++k) {
      const uint64_t seq = k < nks ? ks[k] >> 32 : UINT32_MAX;
      while (expect < seq && di < nds) {  // deletes fill the seqs before
        const Del& d = ds[di++];
        if (expect + d.len > seq || expect + d.len >= UINT32_MAX) {
          return Status::Corruption("operation ids overlap or leave a gap");
        }
        LogDelete(&gaps, static_cast<uint32_t>(expect), d.len, d.reversed,
                  d.target);
        expect += d.len;
      }
      if (k == nks) break;
      if (seq != expect) {
        return Status::Corruption("operation ids overlap or leave a gap");
      }
      const auto i = static_cast<uint32_t>(ks[k]);
      const uint32_t len = len_del[i] >> 1;
      if (index_runs == 0 || index_leaves[index_runs - 1] != leaf_of[i]) {
        index_seqs[index_runs] = static_cast<uint32_t>(seq);
        index_leaves[index_runs++] = leaf_of[i];
      }
      index_end = static_cast<uint32_t>(seq) + len;
      if ((len_del[i] & 1) != 0) {
        LogElided(&gaps, static_cast<uint32_t>(seq), len);
      } else {
        const uint64_t bytes = text_at[i + 1] - text_at[i];
        if (text_at[i + 1] + 8 <= text_in_size) {
          WildCopy(text_end, text_in + text_at[i], bytes);
        } else {
          std::memcpy(text_end, text_in + text_at[i], bytes);
        }
        text_end += bytes;
        code_points += len;
      }
      expect += len;
    }
    Agent& ag = doc_->agents_[agent];
    ag.next_seq = static_cast<uint32_t>(expect);
    doc_->total_ops_ += expect;
    ag.gaps = std::move(gaps);
    if (index_runs > 0) {
      tree_.BulkIndex(agent, index_seqs.get(), index_leaves.get(), index_runs,
                      index_end);
    }
    text.resize(text_bytes);
    ag.text.Assign(std::move(text), code_points);
    return Status::Ok();
  }

  BulkReader r_;
  TextDoc* doc_;
  ContentTree& tree_;
  bool keep_text_;
  uint8_t version_ = 0;
  uint64_t nclients_ = 0;
  std::vector<uint32_t> local_;  // table index -> the document's agent
  // Per span in document order: its client (table index, kept only with
  // several clients), seq << 32 | index (the sort key, later grouped by
  // client), len << 1 | deleted, the leaf holding it, and the visible
  // code points before it (then bytes; one more entry: the end).
  uint64_t nspans_ = 0;
  std::unique_ptr<uint32_t[]> table_of_;
  std::unique_ptr<uint64_t[]> keys_;
  std::unique_ptr<uint32_t[]> len_del_;
  std::unique_ptr<ContentTree::Leaf*[]> leaf_of_;
  std::unique_ptr<uint64_t[]> text_at_;
  uint64_t visible_ = 0;
  // Per client (table index).
  std::vector<uint32_t> spans_of_;
  std::vector<uint32_t> deleted_spans_of_;
  std::vector<uint32_t> dels_of_;
  std::string_view text_;  // the visible text, UTF-8
  uint64_t text_code_points_ = 0;
  std::string unpacked_;
  uint64_t ndels_ = 0;
  std::unique_ptr<Del[]> dels_;  // grouped by client
};

Result<std::unique_ptr<TextDoc>> TextDoc::LoadSnapshot(
    std::string_view snapshot, uint64_t client_id, TextDocLimits limits,
    LoadKeep keep) {
  auto doc = std::make_unique<TextDoc>(client_id, limits);
  WEFT_RETURN_IF_ERROR(
      SnapshotLoader(snapshot, doc.get(), keep == LoadKeep::kText).Load());
  return doc;
}

Result<TextDoc::PeekedText> TextDoc::PeekSnapshotText(
    std::string_view snapshot) {
  TextDoc scratch(0);
  PeekedText out;
  WEFT_RETURN_IF_ERROR(
      SnapshotLoader(snapshot, &scratch, false).PeekText(&out));
  return out;
}

size_t TextDoc::MemoryBytes() const {
  size_t b = tree_.MemoryBytes() + agents_.capacity() * sizeof(Agent) +
             agent_of_.size() * 48;
  for (const Agent& ag : agents_) {
    b += ag.gaps.capacity() * sizeof(GapRun) + ag.text.MemoryBytes();
  }
  return b + loaded_text_.capacity();
}

std::string TextDoc::DebugString() const {
  auto id = [&](Id x) {
    if (x.none()) return std::string("-");
    return std::to_string(agents_[x.agent].client) + ":" +
           std::to_string(x.seq);
  };
  std::string out = "spans:";
  for (const auto* l = tree_.first_leaf(); l != nullptr; l = l->next) {
    for (int i = 0; i < l->n; ++i) {
      const Span& s = l->spans[i];
      out += " [" + id(s.id) + "+" + std::to_string(s.len()) +
             (s.deleted() ? " del" : "") + " ol=" + id(s.origin_left) +
             " or=" + id(s.origin_right) + "]";
    }
  }
  out += "\ngaps:";
  for (uint32_t a = 0; a < agents_.size(); ++a) {
    for (const GapRun& g : agents_[a].gaps) {
      out += " {" + id(Id{a, g.seq}) + "+" + std::to_string(g.len) +
             (g.kind == OpKind::kInsert
                  ? std::string(" ins elided")
                  : " del " + id(g.a) + (g.reversed ? " rev" : "")) +
             "}";
    }
  }
  return out;
}

Status TextDoc::CheckInvariants() const {
  WEFT_RETURN_IF_ERROR(tree_.CheckInvariants());
  if (has_loaded_text_ && loaded_text_ != TreeText()) {
    return Status::Internal("kept text differs from the tree's");
  }
  uint64_t total = 0;
  for (const Agent& ag : agents_) total += ag.next_seq;
  if (total != total_ops_) return Status::Internal("total op count");
  for (uint32_t a = 0; a < agents_.size(); ++a) {
    const Agent& ag = agents_[a];
    // Inserts [s, e) must be in the tree (checked at both ends).
    auto in_tree = [&](uint32_t s, uint32_t e) {
      return s >= e || (tree_.FindId({a, s}) && tree_.FindId({a, e - 1}));
    };
    uint32_t expect = 0;
    uint32_t through = 0;
    for (const GapRun& g : ag.gaps) {
      if (g.len == 0 || g.seq < expect) {
        return Status::Internal("gap log out of order");
      }
      if (!in_tree(expect, g.seq))
        return Status::Internal("insert not in tree");
      through += g.len;
      if (g.gaps_through != through) return Status::Internal("gap count");
      if (g.kind == OpKind::kInsert && !in_tree(g.seq, g.seq + g.len)) {
        return Status::Internal("insert not in tree");
      }
      expect = g.seq + g.len;
    }
    if (expect > ag.next_seq) return Status::Internal("gap past next_seq");
    if (!in_tree(expect, ag.next_seq)) {
      return Status::Internal("insert not in tree");
    }
    if (ag.text.size() != ag.next_seq - through) {
      return Status::Internal("text does not match the inserts");
    }
  }
  uint64_t visible = 0;
  for (const auto* l = tree_.first_leaf(); l != nullptr; l = l->next) {
    for (int i = 0; i < l->n; ++i) {
      const Span& s = l->spans[i];
      visible += s.visible_len();
      // No delete inside any span; no gap at all inside a visible one.
      const Agent& ag = agents_[s.id.agent];
      auto it = std::upper_bound(
          ag.gaps.begin(), ag.gaps.end(), s.last().seq,
          [](uint32_t x, const GapRun& g) { return x < g.seq; });
      while (it != ag.gaps.begin()) {
        --it;
        if (it->seq + it->len <= s.id.seq) break;
        if (it->kind == OpKind::kDelete || !s.deleted()) {
          return Status::Internal("span holds ids without text");
        }
      }
    }
  }
  if (visible != tree_.visible_len()) return Status::Internal("length");
  return Status::Ok();
}

}  // namespace weft::core
