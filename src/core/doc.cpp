#include "core/doc.h"

#include <algorithm>
#include <optional>

#include "core/byte_io.h"

namespace weft::core {

namespace {

constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kKindDocUpdate = 6;
constexpr uint8_t kKindDocStateVector = 7;
constexpr uint8_t kKindDocSnapshot = 8;
constexpr size_t kMaxPendingTexts = 1 << 12;

void PutRef(ByteWriter* w, const ContainerRef& r) {
  w->U8(static_cast<uint8_t>((static_cast<uint8_t>(r.kind) << 1) |
                             (r.root ? 1 : 0)));
  if (r.root) {
    w->LengthPrefixed(r.name);
  } else {
    w->VarUint(r.id.client);
    w->VarUint(r.id.seq);
  }
}

Status GetTextRef(ByteReader* r, ContainerRef* ref) {
  uint8_t b = 0;
  WEFT_RETURN_IF_ERROR(r->U8(&b));
  if ((b >> 1) != static_cast<uint8_t>(ContainerKind::kText)) {
    return Status::Corruption("not a text container");
  }
  ref->kind = ContainerKind::kText;
  ref->root = b & 1;
  if (ref->root) {
    std::string_view name;
    WEFT_RETURN_IF_ERROR(r->LengthPrefixed(&name));
    if (name.size() > (1u << 16)) return Status::Corruption("name too long");
    ref->name = std::string(name);
  } else {
    WEFT_RETURN_IF_ERROR(r->VarUint(&ref->id.client));
    WEFT_RETURN_IF_ERROR(r->U32(&ref->id.seq));
  }
  return Status::Ok();
}

void Quoted(const std::string& s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      *out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      *out += "\\u00";
      out->push_back(kHex[(c >> 4) & 0xF]);
      out->push_back(kHex[c & 0xF]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// The texts a message covers: all of Doc's texts_ (its entries), or some
// of them (iterators into it), in texts_ order either way.
using TextEntry = std::pair<const ContainerRef, std::unique_ptr<TextDoc>>;
const TextEntry& Entry(const TextEntry& e) { return e; }
template <typename Iterator>
const TextEntry& Entry(const Iterator& it) {
  return *it;
}

// A kind-7 message: the structure's state vector, then `text_sv` of each
// text, leaving out texts whose one is empty.
template <typename TextRange, typename TextSv>
std::string EncodeDocStateVector(const StateVector& structure,
                                 const TextRange& texts, TextSv text_sv) {
  ByteWriter w;
  w.U8(kFormatVersion);
  w.U8(kKindDocStateVector);
  w.LengthPrefixed(EncodeStateVector(structure));
  uint64_t n = 0;
  ByteWriter body;
  for (const auto& entry : texts) {
    const auto& [ref, text] = Entry(entry);
    StateVector sv = text_sv(*text);
    if (sv.empty()) continue;
    PutRef(&body, ref);
    body.LengthPrefixed(EncodeStateVector(sv));
    ++n;
  }
  w.VarUint(n);
  w.buffer().append(body.buffer());
  return w.Take();
}

// A kind-6 message: the structure's update, then `text_update` of each text
// that has one (nullopt: nothing to send for it).
template <typename TextRange, typename TextUpdate>
std::string EncodeDocUpdate(const std::string& structure,
                            const TextRange& texts, TextUpdate text_update) {
  ByteWriter w;
  w.U8(kFormatVersion);
  w.U8(kKindDocUpdate);
  w.LengthPrefixed(structure);
  uint64_t count = 0;
  ByteWriter body;
  for (const auto& entry : texts) {
    const auto& [ref, text] = Entry(entry);
    std::optional<std::string> update = text_update(ref, *text);
    if (!update) continue;
    PutRef(&body, ref);
    body.LengthPrefixed(*update);
    ++count;
  }
  w.VarUint(count);
  w.buffer().append(body.buffer());
  return w.Take();
}

Status Header(ByteReader* r, uint8_t want) {
  uint8_t version = 0, kind = 0;
  WEFT_RETURN_IF_ERROR(r->U8(&version));
  if (version != kFormatVersion) {
    return Status::Corruption("unsupported format version");
  }
  WEFT_RETURN_IF_ERROR(r->U8(&kind));
  if (kind != want) return Status::Corruption("unexpected message kind");
  return Status::Ok();
}

}  // namespace

Doc::Doc(uint64_t client_id)
    : client_(client_id), structure_(std::make_unique<StructDoc>(client_id)) {}

Result<TextDoc*> Doc::Text(const ContainerRef& text) {
  if (text.kind != ContainerKind::kText) {
    return Status::InvalidArgument("not a text container");
  }
  ContainerRef key = text;
  if (key.root) key.id = {};
  auto it = texts_.find(key);
  if (it != texts_.end()) return it->second.get();
  if (!structure_->HasContainer(key)) {
    return Status::NotFound("no such text");
  }
  auto added = texts_.emplace(key, std::make_unique<TextDoc>(client_)).first;
  added->second->set_max_scan_steps(text_scan_steps_);
  Attach(added);
  return added->second.get();
}

void Doc::set_max_text_scan_steps(uint64_t steps) {
  text_scan_steps_ = steps;
  for (auto& [ref, text] : texts_) text->set_max_scan_steps(steps);
}

void Doc::Attach(Texts::iterator it) {
  for (const auto& [client, n] : it->second->GetStateVector()) {
    CountTextOps(it, client, n, true);
  }
  it->second->SetOpsListener(
      [this, it](uint64_t client, uint64_t n, bool first) {
        CountTextOps(it, client, n, first);
      });
}

void Doc::CountTextOps(Texts::const_iterator it, uint64_t client, uint64_t n,
                       bool first) {
  if (n == 0) return;
  text_ops_ += n;
  ClientTexts& c = by_client_[client];
  c.ops += n;
  if (!first) return;
  // Texts gain their first operations of a client mostly in texts_ order
  // (a client's new texts are named by its growing seqs), so the list
  // stays sorted by appending; otherwise it is sorted when next read (an
  // update listing thousands of new texts in reverse stays n log n).
  if (!c.texts.empty() && ByRef(it, c.texts.back())) c.unsorted = true;
  c.texts.push_back(it);
}

bool Doc::ByRef(Texts::const_iterator a, Texts::const_iterator b) {
  return a->first < b->first;
}

std::string Doc::ToJson() const {
  std::string roots;
  for (const auto& [ref, text] : texts_) {
    if (!ref.root || text->length() == 0) continue;
    roots += ",";
    Quoted("text:" + ref.name, &roots);
    roots += ":";
    Quoted(text->Text(), &roots);
  }
  std::string json =
      structure_->ToJson([this](const ContainerRef& ref, std::string* out) {
        auto it = texts_.find(ref);
        Quoted(it != texts_.end() ? it->second->Text() : std::string(), out);
      });
  if (!roots.empty()) {
    json.pop_back();  // '}'
    if (json.size() == 1) roots.erase(0, 1);
    json += roots + "}";
  }
  return json;
}

std::string Doc::EncodeStateVector() const {
  return EncodeDocStateVector(
      structure_->GetStateVector(), texts_,
      [](const TextDoc& text) { return text.GetStateVector(); });
}

std::map<uint64_t, uint64_t> Doc::OpCounts() const {
  std::map<uint64_t, uint64_t> counts;
  for (const auto& [client, n] : structure_->GetStateVector()) {
    counts[client] += n;
  }
  for (const auto& [ref, text] : texts_) {
    for (const auto& [client, n] : text->GetStateVector()) counts[client] += n;
  }
  return counts;
}

uint64_t Doc::OpCount(uint64_t client) const {
  auto it = by_client_.find(client);
  return structure_->OpCount(client) +
         (it == by_client_.end() ? 0 : it->second.ops);
}

uint64_t Doc::TotalOpCount() const {
  return structure_->TotalOpCount() + text_ops_;
}

const std::vector<Doc::Texts::const_iterator>& Doc::TextsOf(
    uint64_t client) const {
  static const std::vector<Texts::const_iterator> kNone;
  auto it = by_client_.find(client);
  if (it == by_client_.end()) return kNone;
  ClientTexts& c = it->second;
  if (c.unsorted) {
    std::sort(c.texts.begin(), c.texts.end(), ByRef);
    c.unsorted = false;
  }
  return c.texts;
}

std::string Doc::EncodeClientStateVector(uint64_t client) const {
  return EncodeDocStateVector(
      SingleClientStateVector(client, structure_->OpCount(client)),
      TextsOf(client), [client](const TextDoc& text) {
        return SingleClientStateVector(client, text.OpCount(client));
      });
}

Result<Doc::DocStateVector> Doc::DecodeDocStateVector(std::string_view bytes) {
  ByteReader r(bytes);
  WEFT_RETURN_IF_ERROR(Header(&r, kKindDocStateVector));
  std::string_view struct_sv_bytes;
  WEFT_RETURN_IF_ERROR(r.LengthPrefixed(&struct_sv_bytes));
  auto struct_sv = DecodeStateVector(struct_sv_bytes);
  if (!struct_sv.ok()) return struct_sv.status();
  DocStateVector out{std::move(*struct_sv), {}};
  uint64_t n = 0;
  WEFT_RETURN_IF_ERROR(r.VarUintMax(r.remaining(), &n));
  for (uint64_t i = 0; i < n; ++i) {
    ContainerRef ref;
    WEFT_RETURN_IF_ERROR(GetTextRef(&r, &ref));
    std::string_view sv_bytes;
    WEFT_RETURN_IF_ERROR(r.LengthPrefixed(&sv_bytes));
    auto sv = DecodeStateVector(sv_bytes);
    if (!sv.ok()) return sv.status();
    out.texts[ref] = std::move(*sv);
  }
  if (!r.AtEnd()) return Status::Corruption("trailing bytes");
  return out;
}

Result<std::string> Doc::EncodeDiff(std::string_view state_vector) const {
  auto have = DecodeDocStateVector(state_vector);
  if (!have.ok()) return have.status();
  return EncodeDocUpdate(
      structure_->EncodeDiff(have->structure), texts_,
      [&](const ContainerRef& ref,
          const TextDoc& text) -> std::optional<std::string> {
        auto h = have->texts.find(ref);
        StateVector peer = h == have->texts.end() ? StateVector{} : h->second;
        if (text.GetStateVector() == peer) return std::nullopt;
        return text.EncodeDiff(peer);
      });
}

Result<std::string> Doc::EncodeClientDiff(uint64_t client,
                                          std::string_view state_vector) const {
  auto have = DecodeDocStateVector(state_vector);
  if (!have.ok()) return have.status();
  auto from = [client](const StateVector& sv) {
    auto it = sv.find(client);
    return it == sv.end() ? 0u : it->second;
  };
  return EncodeDocUpdate(
      structure_->EncodeClientDiff(client, from(have->structure)),
      TextsOf(client),
      [&](const ContainerRef& ref,
          const TextDoc& text) -> std::optional<std::string> {
        auto h = have->texts.find(ref);
        uint32_t peer = h == have->texts.end() ? 0 : from(h->second);
        if (text.OpCount(client) <= peer) return std::nullopt;
        return text.EncodeClientDiff(client, peer);
      });
}

Status Doc::ApplyText(const ContainerRef& ref, const std::string& update,
                      std::vector<StructChange>* changes) {
  if (!structure_->HasContainer(ref)) {
    if (pending_.size() >= kMaxPendingTexts) {
      return Status::ResourceExhausted("too many pending text updates");
    }
    pending_.emplace_back(ref, update);
    return Status::Ok();
  }
  auto text = Text(ref);
  if (!text.ok()) return text.status();
  uint64_t before = (*text)->TotalOpCount();
  auto r = (*text)->ApplyUpdate(update, false);
  if (!r.ok()) return r.status();
  if (changes != nullptr && (*text)->TotalOpCount() != before) {
    changes->push_back({ref, {}, {}});
  }
  return Status::Ok();
}

Status Doc::RetryPending(std::vector<StructChange>* changes) {
  std::vector<std::pair<ContainerRef, std::string>> waiting;
  waiting.swap(pending_);
  for (auto& [ref, update] : waiting) {
    WEFT_RETURN_IF_ERROR(ApplyText(ref, update, changes));
  }
  return Status::Ok();
}

Status Doc::ApplyUpdate(std::string_view update,
                        std::vector<StructChange>* changes) {
  ByteReader r(update);
  WEFT_RETURN_IF_ERROR(Header(&r, kKindDocUpdate));
  std::string_view struct_update;
  WEFT_RETURN_IF_ERROR(r.LengthPrefixed(&struct_update));
  uint64_t n = 0;
  WEFT_RETURN_IF_ERROR(r.VarUintMax(r.remaining(), &n));
  std::vector<std::pair<ContainerRef, std::string_view>> texts;
  for (uint64_t i = 0; i < n; ++i) {
    ContainerRef ref;
    WEFT_RETURN_IF_ERROR(GetTextRef(&r, &ref));
    std::string_view bytes;
    WEFT_RETURN_IF_ERROR(r.LengthPrefixed(&bytes));
    texts.emplace_back(std::move(ref), bytes);
  }
  if (!r.AtEnd()) return Status::Corruption("trailing bytes");
  auto s = structure_->ApplyUpdate(struct_update);
  if (!s.ok()) return s.status();
  if (changes != nullptr) changes->insert(changes->end(), s->begin(), s->end());
  for (const auto& [ref, bytes] : texts) {
    WEFT_RETURN_IF_ERROR(ApplyText(ref, std::string(bytes), changes));
  }
  return RetryPending(changes);
}

std::string Doc::EncodeSnapshot() const {
  ByteWriter w;
  w.U8(kFormatVersion);
  w.U8(kKindDocSnapshot);
  w.LengthPrefixed(structure_->EncodeSnapshot());
  uint64_t n = 0;
  ByteWriter body;
  for (const auto& [ref, text] : texts_) {
    if (text->GetStateVector().empty()) continue;
    PutRef(&body, ref);
    body.LengthPrefixed(text->EncodeSnapshot());
    ++n;
  }
  w.VarUint(n);
  w.buffer().append(body.buffer());
  return w.Take();
}

Result<std::unique_ptr<Doc>> Doc::LoadSnapshot(std::string_view snapshot,
                                               uint64_t client_id) {
  ByteReader r(snapshot);
  WEFT_RETURN_IF_ERROR(Header(&r, kKindDocSnapshot));
  std::string_view struct_snap;
  WEFT_RETURN_IF_ERROR(r.LengthPrefixed(&struct_snap));
  auto structure = StructDoc::LoadSnapshot(struct_snap, client_id);
  if (!structure.ok()) return structure.status();
  auto doc = std::make_unique<Doc>(client_id);
  doc->structure_ = std::move(*structure);
  uint64_t n = 0;
  WEFT_RETURN_IF_ERROR(r.VarUintMax(r.remaining(), &n));
  for (uint64_t i = 0; i < n; ++i) {
    ContainerRef ref;
    WEFT_RETURN_IF_ERROR(GetTextRef(&r, &ref));
    std::string_view bytes;
    WEFT_RETURN_IF_ERROR(r.LengthPrefixed(&bytes));
    if (!doc->structure_->HasContainer(ref)) {
      return Status::Corruption("text of a container that does not exist");
    }
    if (doc->texts_.count(ref)) return Status::Corruption("duplicate text");
    auto text = TextDoc::LoadSnapshot(bytes, client_id);
    if (!text.ok()) return text.status();
    doc->Attach(doc->texts_.emplace(ref, std::move(*text)).first);
  }
  if (!r.AtEnd()) return Status::Corruption("trailing bytes");
  return doc;
}

}  // namespace weft::core
