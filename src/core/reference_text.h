#pragma once

// ReferenceText: a deliberately naive, one-item-per-character version of the
// text CRDT (the YjsMod/FugueMax integration of josephg's reference-crdts),
// used only by tests to cross-check TextDoc on small documents. O(n) per
// operation; no run-length encoding, no tree.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/check.h"
#include "core/utf.h"

namespace weft::core {

struct RefId {
  uint64_t client = 0;
  uint32_t seq = 0;
  bool none = true;
  friend bool operator==(const RefId&, const RefId&) = default;
};

struct RefOp {
  bool insert;
  RefId id;
  RefId ol, orr;  // insert
  char32_t ch;    // insert
  RefId target;   // delete
};

class ReferenceText {
 public:
  // Local edits at code point positions; return the operations they made.
  std::vector<RefOp> Insert(uint64_t client, size_t pos,
                            const std::u32string& text) {
    std::vector<RefOp> ops;
    for (size_t k = 0; k < text.size(); ++k) {
      size_t i = FindVisible(pos + k);
      RefOp op{true, {client, version_[client], false}, {}, {}, text[k], {}};
      if (i > 0) op.ol = items_[i - 1].id;
      if (i < items_.size()) op.orr = items_[i].id;
      Apply(op);
      ops.push_back(op);
    }
    return ops;
  }
  std::vector<RefOp> Delete(uint64_t client, size_t pos, size_t len) {
    std::vector<RefOp> ops;
    for (size_t k = 0; k < len; ++k) {
      size_t i = FindVisible(pos);
      WEFT_CHECK(i < items_.size());
      RefOp op{false,       {client, version_[client], false}, {}, {}, 0,
               items_[i].id};
      Apply(op);
      ops.push_back(op);
    }
    return ops;
  }

  uint32_t version(uint64_t client) const {
    auto it = version_.find(client);
    return it == version_.end() ? 0 : it->second;
  }

  // Applies a remote (or local) op; ops of one client must come in order.
  void Apply(const RefOp& op) {
    WEFT_CHECK(op.id.seq == version(op.id.client));
    version_[op.id.client] = op.id.seq + 1;
    if (!op.insert) {
      items_[Find(op.target)].deleted = true;
      return;
    }
    int left = op.ol.none ? -1 : static_cast<int>(Find(op.ol));
    int dest = left + 1;
    int right = op.orr.none ? static_cast<int>(items_.size())
                            : static_cast<int>(Find(op.orr));
    bool scanning = false;
    for (int i = dest;; ++i) {
      if (!scanning) dest = i;
      if (i == static_cast<int>(items_.size())) break;
      if (i == right) break;
      const Item& other = items_[i];
      int oleft = other.ol.none ? -1 : static_cast<int>(Find(other.ol));
      int oright = other.orr.none ? static_cast<int>(items_.size())
                                  : static_cast<int>(Find(other.orr));
      if (oleft < left) break;
      if (oleft == left) {
        if (oright < right) {
          scanning = true;
          continue;
        }
        if (oright == right) {
          if (op.id.client < other.id.client) break;
          scanning = false;
          continue;
        }
        scanning = false;
        continue;
      }
    }
    items_.insert(items_.begin() + dest, Item{op.id, op.ol, op.orr, op.ch});
  }

  std::string Text() const {
    std::string out;
    for (const Item& it : items_) {
      if (!it.deleted) AppendUtf8(it.ch, &out);
    }
    return out;
  }

 private:
  struct Item {
    RefId id, ol, orr;
    char32_t ch;
    bool deleted = false;
  };
  size_t Find(const RefId& id) const {
    for (size_t i = 0; i < items_.size(); ++i) {
      if (items_[i].id == id) return i;
    }
    WEFT_CHECK_MSG(false, "reference: unknown id");
    return 0;
  }
  // Index of the pos-th visible item (skipping deleted ones before it).
  size_t FindVisible(size_t pos) const {
    size_t i = 0;
    for (; i < items_.size(); ++i) {
      if (items_[i].deleted) continue;
      if (pos == 0) return i;
      --pos;
    }
    WEFT_CHECK(pos == 0);
    return i;
  }

  std::vector<Item> items_;
  std::map<uint64_t, uint32_t> version_;
};

}  // namespace weft::core
