#pragma once

// StructDoc: structured data for boards and canvases. A document is a set
// of named root containers; a container is a map (string keys to values,
// each key a last-writer-wins register) or a list (items ordered by
// fractional-index keys, each item with LWW position and value registers).
// A value is null, bool, int, double, string, or a new nested map or list.
//
// Operations have ids (client id, seq) like TextDoc and a Lamport clock;
// concurrent writes to one register are won by the higher (lamport, client
// id), so every replica picks the same winner. Moving a list item rewrites
// its position register, so concurrent moves never duplicate or lose it;
// deleting an item wins over concurrent moves and sets.
//
// Sync is bytes in, bytes out as for TextDoc (docs/format.md, kinds 4/5):
// state vector, diff, apply (idempotent, any order, pending until the
// container or item an op targets exists), snapshot. The snapshot is the
// operation set in canonical order, so replicas with the same operations
// encode identical bytes.
//
// Not thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/status.h"
#include "core/text_doc.h"

namespace weft::core {

struct OpId {
  uint64_t client = 0;
  uint32_t seq = 0;
  friend bool operator==(const OpId& a, const OpId& b) {
    return a.client == b.client && a.seq == b.seq;
  }
  friend bool operator<(const OpId& a, const OpId& b) {
    return a.client < b.client || (a.client == b.client && a.seq < b.seq);
  }
};

// kText containers hold a TextDoc; StructDoc only records that they exist
// (core/doc.h routes text edits to them).
enum class ContainerKind : uint8_t { kMap = 0, kList = 1, kText = 2 };

// A root container (by name and kind) or one nested in a value (by the id
// of the operation that created it).
struct ContainerRef {
  bool root = true;
  ContainerKind kind = ContainerKind::kMap;
  std::string name;  // root only
  OpId id;           // nested only
  // Written out (not defaulted <=>): em++'s libc++ 14 has no string <=>.
  friend bool operator==(const ContainerRef& a, const ContainerRef& b) {
    return a.root == b.root && a.kind == b.kind && a.name == b.name &&
           a.id == b.id;
  }
  friend bool operator<(const ContainerRef& a, const ContainerRef& b) {
    return std::tie(a.root, a.kind, a.name, a.id) <
           std::tie(b.root, b.kind, b.name, b.id);
  }

  static ContainerRef RootMap(std::string n) {
    return {true, ContainerKind::kMap, std::move(n), {}};
  }
  static ContainerRef RootList(std::string n) {
    return {true, ContainerKind::kList, std::move(n), {}};
  }
};

struct Value {
  enum class Type : uint8_t {
    kNull = 0,
    kBool,
    kInt,
    kDouble,
    kString,
    kMap,   // a new nested map; read back as a ContainerRef
    kList,  // a new nested list
    kText,  // a new nested text (see core/doc.h)
  };
  Type type = Type::kNull;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  friend bool operator==(const Value&, const Value&) = default;

  static Value Null() { return {}; }
  static Value Bool(bool v) { return {Type::kBool, v, 0, 0, {}}; }
  static Value Int(int64_t v) { return {Type::kInt, false, v, 0, {}}; }
  static Value Double(double v) { return {Type::kDouble, false, 0, v, {}}; }
  static Value String(std::string v) {
    return {Type::kString, false, 0, 0, std::move(v)};
  }
  static Value NewMap() { return {Type::kMap, false, 0, 0, {}}; }
  static Value NewList() { return {Type::kList, false, 0, 0, {}}; }
  static Value NewText() { return {Type::kText, false, 0, 0, {}}; }
  // The kind of container a value creates, if any.
  std::optional<ContainerKind> NestedKind() const {
    if (type == Type::kMap) return ContainerKind::kMap;
    if (type == Type::kList) return ContainerKind::kList;
    if (type == Type::kText) return ContainerKind::kText;
    return std::nullopt;
  }
};

struct ListEntry {
  OpId id;  // the item's stable id (its insert operation)
  Value value;
  std::optional<ContainerRef> container;  // when value is a container
};

// A register or item that changed in ApplyUpdate.
struct StructChange {
  ContainerRef container;
  std::string key;  // maps
  OpId item;        // lists
  friend bool operator==(const StructChange&, const StructChange&) = default;
};

class StructDoc {
 public:
  explicit StructDoc(uint64_t client_id);
  StructDoc(const StructDoc&) = delete;
  StructDoc& operator=(const StructDoc&) = delete;

  uint64_t client_id() const { return client_; }

  // Local edits. kNotFound if the container or item does not exist,
  // kInvalidArgument for a bad index or a kind mismatch. Writing a kMap or
  // kList value creates a nested container, returned.
  Result<std::optional<ContainerRef>> MapSet(const ContainerRef& map,
                                             const std::string& key,
                                             Value value);
  Status MapDelete(const ContainerRef& map, const std::string& key);
  Result<OpId> ListInsert(const ContainerRef& list, size_t index, Value value);
  Status ListMove(const ContainerRef& list, OpId item, size_t new_index);
  Status ListSet(const ContainerRef& list, OpId item, Value value);
  Status ListDelete(const ContainerRef& list, OpId item);

  // Reads. A nested container is returned as its ref (Value type kMap/kList).
  std::optional<Value> MapGet(const ContainerRef& map,
                              const std::string& key) const;
  std::optional<ContainerRef> MapGetContainer(const ContainerRef& map,
                                              const std::string& key) const;
  std::vector<std::string> MapKeys(const ContainerRef& map) const;
  std::vector<ListEntry> ListItems(const ContainerRef& list) const;
  // The whole document as deterministic JSON: root maps, then root lists,
  // each sorted by name, as "map:NAME" / "list:NAME". Nested texts are
  // rendered by `text` (null when absent).
  using TextRenderer =
      std::function<void(const ContainerRef&, std::string* out)>;
  std::string ToJson(const TextRenderer& text = {}) const;
  // True if the (nested or root) container exists.
  bool HasContainer(const ContainerRef& ref) const {
    return ref.root || Find(ref) != nullptr;
  }

  StateVector GetStateVector() const;
  // Operations of `client` held (its entry of the state vector, 0 for
  // none) and of all clients together, without building the state vector.
  uint64_t OpCount(uint64_t client) const;
  uint64_t TotalOpCount() const { return total_ops_; }
  // The Lamport clock: the highest of any operation integrated.
  uint64_t lamport() const { return lamport_; }
  // Containers nest at most this deep in local edits (a root is at depth
  // 0); the server refuses changes that nest deeper (kMaxDepth is not
  // checked on integration, so that documents stored before the limit
  // still load), and ToJson renders deeper containers as null.
  static constexpr uint32_t kMaxDepth = 64;
  // The depth of the deepest container there is.
  uint32_t max_depth() const { return max_depth_; }
  // Operations integrated whose root name, map key or string value is not
  // valid UTF-8. Local edits refuse such strings and the server refuses
  // changes that raise this count; the decoder does not check them, so
  // that documents stored before that check still load, and ToJson shows
  // them with U+FFFD in place of each invalid byte.
  uint64_t invalid_utf8_ops() const { return invalid_utf8_ops_; }
  std::string EncodeDiff(const StateVector& have) const;
  // The update holding the operations of `client` from seq `from` on: after
  // local edits, EncodeClientDiff(client_id(), OpCount(client_id()) before)
  // is the same bytes as EncodeDiff(GetStateVector() before), at a cost
  // that does not grow with the number of clients the document has had.
  std::string EncodeClientDiff(uint64_t client, uint32_t from) const;
  // kCorruption for bytes that do not decode or ops that contradict the
  // document (e.g. a list op on a map); ops applied before stay applied.
  Result<std::vector<StructChange>> ApplyUpdate(std::string_view update);
  std::string EncodeSnapshot() const;
  static Result<std::unique_ptr<StructDoc>> LoadSnapshot(
      std::string_view snapshot, uint64_t client_id);
  size_t pending_ops() const { return pending_.size(); }

 private:
  enum class OpType : uint8_t {
    kMapSet = 0,
    kMapDelete = 1,
    kListInsert = 2,
    kListMove = 3,
    kListSet = 4,
    kListDelete = 5,
  };
  // Whether an operation of this type names a list item (Op::item).
  static bool NamesItem(OpType t) {
    return t == OpType::kListMove || t == OpType::kListSet ||
           t == OpType::kListDelete;
  }
  struct Op {
    OpId id;
    uint64_t lamport = 0;
    OpType type = OpType::kMapSet;
    ContainerRef container;
    std::string key;  // map key, or list position key (insert, move)
    OpId item;        // list move/set/delete
    Value value;      // set/insert
  };
  struct Stamp {
    uint64_t lamport = 0;
    uint64_t client = 0;
    friend bool operator>(const Stamp& a, const Stamp& b) {
      return a.lamport > b.lamport ||
             (a.lamport == b.lamport && a.client > b.client);
    }
  };
  struct Reg {
    Stamp stamp;
    bool present = false;  // false: deleted (map) / never set
    Value value;
    OpId origin;  // op that wrote it (nested containers use it as id)
  };
  struct Item {
    Reg pos;  // value.s holds the position key
    Reg value;
    bool deleted = false;
  };
  struct Container {
    ContainerKind kind;
    std::map<std::string, Reg> entries;  // maps
    std::map<OpId, Item> items;          // lists
    uint32_t depth = 0;                  // roots 0, nested: parent's + 1
  };

  Container* Find(const ContainerRef& ref);
  const Container* Find(const ContainerRef& ref) const;
  Status Local(Op op);
  // Ready: 1, not ready: 0, invalid: error.
  Result<bool> Ready(const Op& op) const;
  // For an op not Ready: the id of the first operation it waits for (its
  // client's previous one, its container's, its item's).
  OpId WaitsFor(const Op& op) const;
  void Integrate(const Op& op, std::vector<StructChange>* changes);
  // Whether the strings `op` carries (a root container's name, a map key,
  // a string value) are valid UTF-8; position keys are checked as keys.
  static bool ValidStrings(const Op& op);
  std::vector<std::pair<std::string, OpId>> Order(const Container& c) const;
  void ValueJson(const Reg& r, const TextRenderer& text, std::string* out,
                 uint32_t depth) const;
  void ContainerJson(const Container& c, const TextRenderer& text,
                     std::string* out, uint32_t depth) const;

  // Ops to encode: a client's log, from which seq.
  using Missing = std::vector<std::pair<const std::vector<Op>*, uint32_t>>;
  std::string EncodeMissing(const Missing& missing) const;

  uint64_t client_;
  uint64_t lamport_ = 0;
  uint32_t max_depth_ = 0;
  uint64_t invalid_utf8_ops_ = 0;
  uint64_t total_ops_ = 0;                   // ops in log_
  std::map<uint64_t, std::vector<Op>> log_;  // per client, by seq
  std::map<ContainerRef, Container> containers_;
  std::vector<Op> pending_;
};

}  // namespace weft::core
