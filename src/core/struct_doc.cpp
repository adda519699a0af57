#include "core/struct_doc.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "core/byte_io.h"
#include "core/fractional_index.h"
#include "core/utf.h"

namespace weft::core {

namespace {

constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kKindStructUpdate = 4;
constexpr uint8_t kKindStructSnapshot = 5;
constexpr size_t kMaxKeyBytes = 1 << 16;
// StructDoc::kMaxDepth: rendering (ToJson) recurses once per level, and a
// chain of nested maps, a few bytes each, overflowed the stack and
// brought the server down on GET content.
// A Lamport clock stays below this (the decoder's bound).
constexpr uint64_t kMaxLamport = uint64_t{1} << 62;

// A double as JSON: the shortest of 15, 16 or 17 significant digits that
// reads back as the same number (std::to_string printed "%f": 1e-7 as
// 0.000000, NaN as "nan"); not finite numbers, which JSON lacks, as null.
void JsonNumber(double d, std::string* out) {
  if (!std::isfinite(d)) {
    *out += "null";
    return;
  }
  char buf[40];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  *out += buf;
}

void JsonString(std::string_view s, std::string* out) {
  std::string valid;  // see StructDoc::invalid_utf8_ops
  if (!IsValidUtf8(s)) {
    valid = ValidUtf8(s);
    s = valid;
  }
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char kHex[] = "0123456789abcdef";
          *out += "\\u00";
          out->push_back(kHex[(c >> 4) & 0xF]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

StructDoc::StructDoc(uint64_t client_id) : client_(client_id) {}

StructDoc::Container* StructDoc::Find(const ContainerRef& ref) {
  auto it = containers_.find(ref);
  if (it != containers_.end()) return &it->second;
  if (!ref.root) return nullptr;
  ContainerRef key{true, ref.kind, ref.name, {}};
  return &containers_.emplace(key, Container{ref.kind, {}, {}}).first->second;
}

const StructDoc::Container* StructDoc::Find(const ContainerRef& ref) const {
  ContainerRef key = ref;
  if (key.root) key.id = {};
  auto it = containers_.find(key);
  return it == containers_.end() ? nullptr : &it->second;
}

Result<bool> StructDoc::Ready(const Op& op) const {
  auto known = [&](OpId id) { return id.seq < OpCount(id.client); };
  if (op.id.seq != OpCount(op.id.client)) return false;
  const bool list_op =
      op.type != OpType::kMapSet && op.type != OpType::kMapDelete;
  if (op.container.kind !=
      (list_op ? ContainerKind::kList : ContainerKind::kMap)) {
    return Status::Corruption("operation does not fit its container kind");
  }
  const Container* c = nullptr;
  if (!op.container.root) {
    if (!known(op.container.id)) return false;
    c = Find(op.container);
    if (c == nullptr) return Status::Corruption("not a container");
  }
  if (NamesItem(op.type)) {
    if (!known(op.item)) return false;
    if (c == nullptr) c = Find(op.container);
    if (c == nullptr || c->items.find(op.item) == c->items.end()) {
      return Status::Corruption("not an item of this list");
    }
  }
  return true;
}

OpId StructDoc::WaitsFor(const Op& op) const {
  if (op.id.seq != OpCount(op.id.client)) {
    return OpId{op.id.client, op.id.seq - 1};
  }
  if (!op.container.root &&
      op.container.id.seq >= OpCount(op.container.id.client)) {
    return op.container.id;
  }
  return op.item;
}

bool StructDoc::ValidStrings(const Op& op) {
  return (!op.container.root || IsValidUtf8(op.container.name)) &&
         IsValidUtf8(op.key) &&
         (op.value.type != Value::Type::kString || IsValidUtf8(op.value.s));
}

void StructDoc::Integrate(const Op& op, std::vector<StructChange>* changes) {
  lamport_ = std::max(lamport_, op.lamport);
  if (!ValidStrings(op)) ++invalid_utf8_ops_;
  Container* c = Find(op.container);
  const Stamp stamp{op.lamport, op.id.client};
  auto make_nested = [&](const Value& v) {
    if (auto k = v.NestedKind()) {
      containers_.emplace(ContainerRef{false, *k, {}, op.id},
                          Container{*k, {}, {}, c->depth + 1});
      max_depth_ = std::max(max_depth_, c->depth + 1);
    }
  };
  auto write = [&](Reg* r, bool present, const Value& v) {
    if (stamp > r->stamp) {
      *r = {stamp, present, v, op.id};
      return true;
    }
    return false;
  };
  bool changed = false;
  StructChange ch{op.container, {}, {}};
  switch (op.type) {
    case OpType::kMapSet:
    case OpType::kMapDelete:
      make_nested(op.value);
      changed = write(&c->entries[op.key], op.type == OpType::kMapSet,
                      op.type == OpType::kMapSet ? op.value : Value::Null());
      ch.key = op.key;
      break;
    case OpType::kListInsert: {
      make_nested(op.value);
      Item& item = c->items[op.id];
      write(&item.pos, true, Value::String(op.key));
      write(&item.value, true, op.value);
      changed = true;
      ch.item = op.id;
      break;
    }
    case OpType::kListMove:
      changed = write(&c->items[op.item].pos, true, Value::String(op.key));
      ch.item = op.item;
      break;
    case OpType::kListSet:
      make_nested(op.value);
      changed = write(&c->items[op.item].value, true, op.value);
      ch.item = op.item;
      break;
    case OpType::kListDelete: {
      Item& item = c->items[op.item];
      changed = !item.deleted;
      item.deleted = true;
      ch.item = op.item;
      break;
    }
  }
  log_[op.id.client].push_back(op);
  ++total_ops_;
  if (changed && changes != nullptr) changes->push_back(std::move(ch));
}

Status StructDoc::Local(Op op) {
  op.id = {client_, static_cast<uint32_t>(log_[client_].size())};
  if (op.id.seq >= UINT32_MAX - 1) {
    return Status::ResourceExhausted("client sequence numbers exhausted");
  }
  if (lamport_ >= kMaxLamport) {
    return Status::ResourceExhausted("Lamport clock exhausted");
  }
  op.lamport = lamport_ + 1;
  // Strings as the decoder and the server check them.
  if ((op.container.root && op.container.name.size() > kMaxKeyBytes) ||
      op.key.size() > kMaxKeyBytes) {
    return Status::InvalidArgument("name or key longer than 65,536 bytes");
  }
  if (!ValidStrings(op)) {
    return Status::InvalidArgument("a name, key or string is not UTF-8");
  }
  // A position key is checked as the decoder will (a list that keeps
  // taking inserts at one place grows its keys).
  if ((op.type == OpType::kListInsert || op.type == OpType::kListMove) &&
      !IsValidKey(op.key)) {
    return Status::ResourceExhausted(
        "list position keys at this place are too long");
  }
  auto ready = Ready(op);
  if (!ready.ok()) return Status::InvalidArgument(ready.status().message());
  if (!*ready) return Status::NotFound("container or item does not exist");
  if (op.value.NestedKind()) {
    const Container* c = std::as_const(*this).Find(op.container);
    if ((c == nullptr ? 0 : c->depth) + 1 > kMaxDepth) {
      return Status::InvalidArgument("containers nested too deep");
    }
  }
  Integrate(op, nullptr);
  return Status::Ok();
}

Result<std::optional<ContainerRef>> StructDoc::MapSet(const ContainerRef& map,
                                                      const std::string& key,
                                                      Value value) {
  Op op;
  op.type = OpType::kMapSet;
  op.container = map;
  op.key = key;
  op.value = std::move(value);
  std::optional<ContainerKind> kind = op.value.NestedKind();
  WEFT_RETURN_IF_ERROR(Local(op));
  if (!kind) return std::optional<ContainerRef>();
  OpId id{client_, static_cast<uint32_t>(log_[client_].size() - 1)};
  return std::optional<ContainerRef>(ContainerRef{false, *kind, {}, id});
}

Status StructDoc::MapDelete(const ContainerRef& map, const std::string& key) {
  Op op;
  op.type = OpType::kMapDelete;
  op.container = map;
  op.key = key;
  return Local(op);
}

std::vector<std::pair<std::string, OpId>> StructDoc::Order(
    const Container& c) const {
  std::vector<std::pair<std::string, OpId>> order;
  for (const auto& [id, item] : c.items) {
    if (!item.deleted) order.emplace_back(item.pos.value.s, id);
  }
  std::sort(order.begin(), order.end());
  return order;
}

Result<OpId> StructDoc::ListInsert(const ContainerRef& list, size_t index,
                                   Value value) {
  // Looked up without creating it (a refused insert must not leave an
  // empty root list on this replica only).
  const Container* c = std::as_const(*this).Find(list);
  std::vector<std::pair<std::string, OpId>> order;
  if (c != nullptr) order = Order(*c);
  if (index > order.size()) return Status::InvalidArgument("index");
  Op op;
  op.type = OpType::kListInsert;
  op.container = list;
  op.key = KeyBetween(index > 0 ? order[index - 1].first : "",
                      index < order.size() ? order[index].first : "");
  op.value = std::move(value);
  WEFT_RETURN_IF_ERROR(Local(op));
  return OpId{client_, static_cast<uint32_t>(log_[client_].size() - 1)};
}

Status StructDoc::ListMove(const ContainerRef& list, OpId item,
                           size_t new_index) {
  const Container* c = std::as_const(*this).Find(list);
  if (c == nullptr) return Status::NotFound("no such list");
  auto order = Order(*c);
  auto it = std::find_if(order.begin(), order.end(),
                         [&](const auto& e) { return e.second == item; });
  if (it == order.end()) return Status::NotFound("no such item");
  order.erase(it);
  if (new_index > order.size()) return Status::InvalidArgument("index");
  Op op;
  op.type = OpType::kListMove;
  op.container = list;
  op.item = item;
  op.key = KeyBetween(new_index > 0 ? order[new_index - 1].first : "",
                      new_index < order.size() ? order[new_index].first : "");
  return Local(op);
}

Status StructDoc::ListSet(const ContainerRef& list, OpId item, Value value) {
  Op op;
  op.type = OpType::kListSet;
  op.container = list;
  op.item = item;
  op.value = std::move(value);
  return Local(op);
}

Status StructDoc::ListDelete(const ContainerRef& list, OpId item) {
  Op op;
  op.type = OpType::kListDelete;
  op.container = list;
  op.item = item;
  return Local(op);
}

std::optional<Value> StructDoc::MapGet(const ContainerRef& map,
                                       const std::string& key) const {
  const Container* c = Find(map);
  if (c == nullptr) return std::nullopt;
  auto it = c->entries.find(key);
  if (it == c->entries.end() || !it->second.present) return std::nullopt;
  return it->second.value;
}

std::optional<ContainerRef> StructDoc::MapGetContainer(
    const ContainerRef& map, const std::string& key) const {
  const Container* c = Find(map);
  if (c == nullptr) return std::nullopt;
  auto it = c->entries.find(key);
  if (it == c->entries.end() || !it->second.present) return std::nullopt;
  const Reg& r = it->second;
  if (auto k = r.value.NestedKind()) {
    return ContainerRef{false, *k, {}, r.origin};
  }
  return std::nullopt;
}

std::vector<std::string> StructDoc::MapKeys(const ContainerRef& map) const {
  std::vector<std::string> keys;
  const Container* c = Find(map);
  if (c == nullptr) return keys;
  for (const auto& [k, r] : c->entries) {
    if (r.present) keys.push_back(k);
  }
  return keys;
}

std::vector<ListEntry> StructDoc::ListItems(const ContainerRef& list) const {
  std::vector<ListEntry> out;
  const Container* c = Find(list);
  if (c == nullptr) return out;
  for (const auto& [key, id] : Order(*c)) {
    const Reg& r = c->items.at(id).value;
    ListEntry e{id, r.value, std::nullopt};
    if (auto k = r.value.NestedKind()) {
      e.container = ContainerRef{false, *k, {}, r.origin};
    }
    out.push_back(std::move(e));
  }
  return out;
}

void StructDoc::ValueJson(const Reg& r, const TextRenderer& text,
                          std::string* out, uint32_t depth) const {
  const Value& v = r.value;
  switch (v.type) {
    case Value::Type::kNull:
      *out += "null";
      break;
    case Value::Type::kBool:
      *out += v.b ? "true" : "false";
      break;
    case Value::Type::kInt:
      *out += std::to_string(v.i);
      break;
    case Value::Type::kDouble:
      JsonNumber(v.d, out);
      break;
    case Value::Type::kString:
      JsonString(v.s, out);
      break;
    case Value::Type::kText:
      if (text) {
        text(ContainerRef{false, ContainerKind::kText, {}, r.origin}, out);
      } else {
        *out += "null";
      }
      break;
    case Value::Type::kMap:
    case Value::Type::kList: {
      const Container* c =
          Find(ContainerRef{false, *v.NestedKind(), {}, r.origin});
      // Deeper than edits may nest (stored before the limit): null, as
      // rendering recurses per level.
      if (c == nullptr || depth + 1 > kMaxDepth) {
        *out += "null";
      } else {
        ContainerJson(*c, text, out, depth + 1);
      }
      break;
    }
  }
}

void StructDoc::ContainerJson(const Container& c, const TextRenderer& text,
                              std::string* out, uint32_t depth) const {
  if (c.kind == ContainerKind::kMap) {
    out->push_back('{');
    bool first = true;
    for (const auto& [k, r] : c.entries) {
      if (!r.present) continue;
      if (!first) out->push_back(',');
      first = false;
      JsonString(k, out);
      out->push_back(':');
      ValueJson(r, text, out, depth);
    }
    out->push_back('}');
    return;
  }
  out->push_back('[');
  bool first = true;
  for (const auto& [key, id] : Order(c)) {
    if (!first) out->push_back(',');
    first = false;
    ValueJson(c.items.at(id).value, text, out, depth);
  }
  out->push_back(']');
}

std::string StructDoc::ToJson(const TextRenderer& text) const {
  std::string out = "{";
  bool first = true;
  for (const auto& [ref, c] : containers_) {
    if (!ref.root) continue;
    if (!first) out.push_back(',');
    first = false;
    JsonString((ref.kind == ContainerKind::kMap ? "map:" : "list:") + ref.name,
               &out);
    out.push_back(':');
    ContainerJson(c, text, &out, 0);
  }
  out.push_back('}');
  return out;
}

StateVector StructDoc::GetStateVector() const {
  StateVector sv;
  for (const auto& [client, ops] : log_) {
    if (!ops.empty()) sv[client] = static_cast<uint32_t>(ops.size());
  }
  return sv;
}

namespace {

void PutValue(ByteWriter* w, const Value& v) {
  w->U8(static_cast<uint8_t>(v.type));
  switch (v.type) {
    case Value::Type::kBool:
      w->U8(v.b ? 1 : 0);
      break;
    case Value::Type::kInt:
      w->VarSint(v.i);
      break;
    case Value::Type::kDouble: {
      uint64_t bits;
      std::memcpy(&bits, &v.d, 8);
      for (int i = 0; i < 8; ++i) w->U8(static_cast<uint8_t>(bits >> (8 * i)));
      break;
    }
    case Value::Type::kString:
      w->LengthPrefixed(v.s);
      break;
    default:
      break;
  }
}

Status GetValue(ByteReader* r, Value* v) {
  uint8_t t = 0;
  WEFT_RETURN_IF_ERROR(r->U8(&t));
  if (t > static_cast<uint8_t>(Value::Type::kText)) {
    return Status::Corruption("unknown value type");
  }
  v->type = static_cast<Value::Type>(t);
  switch (v->type) {
    case Value::Type::kBool: {
      uint8_t b = 0;
      WEFT_RETURN_IF_ERROR(r->U8(&b));
      if (b > 1) return Status::Corruption("bad bool");
      v->b = b == 1;
      break;
    }
    case Value::Type::kInt:
      WEFT_RETURN_IF_ERROR(r->VarSint(&v->i));
      break;
    case Value::Type::kDouble: {
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) {
        uint8_t b = 0;
        WEFT_RETURN_IF_ERROR(r->U8(&b));
        bits |= uint64_t{b} << (8 * i);
      }
      std::memcpy(&v->d, &bits, 8);
      break;
    }
    case Value::Type::kString: {
      std::string_view s;
      WEFT_RETURN_IF_ERROR(r->LengthPrefixed(&s));
      v->s = std::string(s);
      break;
    }
    default:
      break;
  }
  return Status::Ok();
}

}  // namespace

uint64_t StructDoc::OpCount(uint64_t client) const {
  auto it = log_.find(client);
  return it == log_.end() ? 0 : it->second.size();
}

std::string StructDoc::EncodeDiff(const StateVector& have) const {
  // The ops a peer at `have` lacks (per client, from which seq).
  Missing missing;
  for (const auto& [client, ops] : log_) {
    auto h = have.find(client);
    uint32_t from = h == have.end() ? 0 : h->second;
    if (from < ops.size()) missing.emplace_back(&ops, from);
  }
  return EncodeMissing(missing);
}

std::string StructDoc::EncodeClientDiff(uint64_t client, uint32_t from) const {
  Missing missing;
  auto it = log_.find(client);
  if (it != log_.end() && from < it->second.size()) {
    missing.emplace_back(&it->second, from);
  }
  return EncodeMissing(missing);
}

std::string StructDoc::EncodeMissing(const Missing& missing) const {
  // The clients the ops name: the table holds those only, in client order,
  // so an update does not grow with every client the document has ever had.
  std::map<uint64_t, uint32_t> index;
  auto name = [&](OpId id) { index.emplace(id.client, 0); };
  for (const auto& [log, from] : missing) {
    const std::vector<Op>& ops = *log;
    for (size_t s = from; s < ops.size(); ++s) {
      const Op& op = ops[s];
      name(op.id);
      if (!op.container.root) name(op.container.id);
      if (NamesItem(op.type)) name(op.item);
    }
  }
  std::vector<uint64_t> clients;
  for (auto& [client, i] : index) {
    i = static_cast<uint32_t>(clients.size());
    clients.push_back(client);
  }
  ByteWriter w;
  w.U8(kFormatVersion);
  w.U8(kKindStructUpdate);
  w.VarUint(clients.size());
  for (uint64_t c : clients) w.VarUint(c);
  ByteWriter body;
  uint64_t n = 0;
  auto put_id = [&](OpId id) {
    body.VarUint(index.at(id.client));
    body.VarUint(id.seq);
  };
  for (const auto& [log, from] : missing) {
    const std::vector<Op>& ops = *log;
    for (size_t s = from; s < ops.size(); ++s) {
      const Op& op = ops[s];
      put_id(op.id);
      body.VarUint(op.lamport);
      body.U8(static_cast<uint8_t>(op.type));
      body.U8(
          static_cast<uint8_t>((static_cast<uint8_t>(op.container.kind) << 1) |
                               (op.container.root ? 1 : 0)));
      if (op.container.root) {
        body.LengthPrefixed(op.container.name);
      } else {
        put_id(op.container.id);
      }
      switch (op.type) {
        case OpType::kMapSet:
        case OpType::kListInsert:
          body.LengthPrefixed(op.key);
          PutValue(&body, op.value);
          break;
        case OpType::kMapDelete:
          body.LengthPrefixed(op.key);
          break;
        case OpType::kListMove:
          put_id(op.item);
          body.LengthPrefixed(op.key);
          break;
        case OpType::kListSet:
          put_id(op.item);
          PutValue(&body, op.value);
          break;
        case OpType::kListDelete:
          put_id(op.item);
          break;
      }
      ++n;
    }
  }
  w.VarUint(n);
  w.buffer().append(body.buffer());
  return w.Take();
}

Result<std::vector<StructChange>> StructDoc::ApplyUpdate(
    std::string_view update) {
  ByteReader r(update);
  uint8_t version = 0, kind = 0;
  WEFT_RETURN_IF_ERROR(r.U8(&version));
  if (version != kFormatVersion) {
    return Status::Corruption("unsupported format version");
  }
  WEFT_RETURN_IF_ERROR(r.U8(&kind));
  if (kind != kKindStructUpdate && kind != kKindStructSnapshot) {
    return Status::Corruption("not a structured-data update");
  }
  uint64_t nclients = 0;
  WEFT_RETURN_IF_ERROR(r.VarUintMax(r.remaining(), &nclients));
  std::vector<uint64_t> clients(nclients);
  for (uint64_t& c : clients) WEFT_RETURN_IF_ERROR(r.VarUint(&c));
  uint64_t n = 0;
  WEFT_RETURN_IF_ERROR(r.VarUintMax(r.remaining(), &n));
  auto get_id = [&](OpId* id) -> Status {
    uint64_t ci = 0;
    if (nclients == 0) return Status::Corruption("no clients");
    WEFT_RETURN_IF_ERROR(r.VarUintMax(nclients - 1, &ci));
    id->client = clients[ci];
    WEFT_RETURN_IF_ERROR(r.U32(&id->seq));
    if (id->seq >= UINT32_MAX - 1) return Status::Corruption("seq range");
    return Status::Ok();
  };
  auto get_key = [&](std::string* key, bool position) -> Status {
    std::string_view k;
    WEFT_RETURN_IF_ERROR(r.LengthPrefixed(&k));
    if (k.size() > kMaxKeyBytes) return Status::Corruption("key too long");
    if (position && !IsValidKey(k)) return Status::Corruption("bad position");
    *key = std::string(k);
    return Status::Ok();
  };
  std::vector<Op> ops;
  // No operation takes fewer than 7 bytes (a map delete in a root map
  // with a one-byte name and key): a hostile count reserves no more than
  // the update can hold.
  ops.reserve(std::min<uint64_t>(n, r.remaining() / 7));
  for (uint64_t i = 0; i < n; ++i) {
    Op op;
    WEFT_RETURN_IF_ERROR(get_id(&op.id));
    WEFT_RETURN_IF_ERROR(r.VarUint(&op.lamport));
    if (op.lamport == 0 || op.lamport > (uint64_t{1} << 62)) {
      return Status::Corruption("bad lamport clock");
    }
    uint8_t type = 0, cont = 0;
    WEFT_RETURN_IF_ERROR(r.U8(&type));
    if (type > static_cast<uint8_t>(OpType::kListDelete)) {
      return Status::Corruption("unknown operation");
    }
    op.type = static_cast<OpType>(type);
    WEFT_RETURN_IF_ERROR(r.U8(&cont));
    if (cont > 5) return Status::Corruption("bad container");
    op.container.root = cont & 1;
    op.container.kind = static_cast<ContainerKind>(cont >> 1);
    if (op.container.root) {
      WEFT_RETURN_IF_ERROR(get_key(&op.container.name, false));
    } else {
      WEFT_RETURN_IF_ERROR(get_id(&op.container.id));
    }
    switch (op.type) {
      case OpType::kMapSet:
        WEFT_RETURN_IF_ERROR(get_key(&op.key, false));
        WEFT_RETURN_IF_ERROR(GetValue(&r, &op.value));
        break;
      case OpType::kListInsert:
        WEFT_RETURN_IF_ERROR(get_key(&op.key, true));
        WEFT_RETURN_IF_ERROR(GetValue(&r, &op.value));
        break;
      case OpType::kMapDelete:
        WEFT_RETURN_IF_ERROR(get_key(&op.key, false));
        break;
      case OpType::kListMove:
        WEFT_RETURN_IF_ERROR(get_id(&op.item));
        WEFT_RETURN_IF_ERROR(get_key(&op.key, true));
        break;
      case OpType::kListSet:
        WEFT_RETURN_IF_ERROR(get_id(&op.item));
        WEFT_RETURN_IF_ERROR(GetValue(&r, &op.value));
        break;
      case OpType::kListDelete:
        WEFT_RETURN_IF_ERROR(get_id(&op.item));
        break;
    }
    ops.push_back(std::move(op));
  }
  if (!r.AtEnd()) return Status::Corruption("trailing bytes");

  for (Op& op : pending_) ops.push_back(std::move(op));
  pending_.clear();
  std::stable_sort(ops.begin(), ops.end(),
                   [](const Op& a, const Op& b) { return a.id < b.id; });
  std::vector<bool> done(ops.size(), false);
  std::vector<StructChange> changes;
  Status failure;
  // Each op is tried in id order; one not ready waits under the id of the
  // op it needs and is tried again once that is integrated. Linear in the
  // ops: passes over all of them until one made no progress took a pass
  // per link of a chain of ops waiting on each other across clients (a
  // hostile 1 MB change: about 10^9 readiness checks under the document's
  // lock), and as many for a snapshot of such a history.
  std::map<OpId, std::vector<size_t>> waiting;
  std::vector<size_t> work;
  for (size_t start = 0; start < ops.size() && failure.ok(); ++start) {
    work.push_back(start);
    while (!work.empty()) {
      size_t i = work.back();
      work.pop_back();
      if (done[i]) continue;
      if (ops[i].id.seq < OpCount(ops[i].id.client)) {
        done[i] = true;  // duplicate
        continue;
      }
      auto ready = Ready(ops[i]);
      if (!ready.ok()) {
        failure = ready.status();
        done[i] = true;
        break;
      }
      if (!*ready) {
        waiting[WaitsFor(ops[i])].push_back(i);
        continue;
      }
      Integrate(ops[i], &changes);
      done[i] = true;
      auto released = waiting.find(ops[i].id);
      if (released != waiting.end()) {
        // Back to front onto the stack: tried in id order.
        work.insert(work.end(), released->second.rbegin(),
                    released->second.rend());
        waiting.erase(released);
      }
    }
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!done[i]) {
      if (pending_.size() >= (1u << 16)) {
        return Status::ResourceExhausted("too many pending operations");
      }
      pending_.push_back(std::move(ops[i]));
    }
  }
  if (!failure.ok()) return failure;
  return changes;
}

std::string StructDoc::EncodeSnapshot() const {
  std::string s = EncodeDiff({});
  s[1] = static_cast<char>(kKindStructSnapshot);
  return s;
}

Result<std::unique_ptr<StructDoc>> StructDoc::LoadSnapshot(
    std::string_view snapshot, uint64_t client_id) {
  if (snapshot.size() < 2 || snapshot[1] != kKindStructSnapshot) {
    return Status::Corruption("not a structured-data snapshot");
  }
  auto doc = std::make_unique<StructDoc>(client_id);
  auto r = doc->ApplyUpdate(snapshot);
  if (!r.ok()) return r.status();
  if (doc->pending_ops() != 0) {
    return Status::Corruption("snapshot operations lack dependencies");
  }
  return doc;
}

}  // namespace weft::core
