#include "proto/merge_ops.h"

#include <cstdint>
#include <optional>

#include "common/byte_io.h"
#include "proto/message.h"

namespace weft::proto {
namespace {

// The parts of an `ops` message: its header fields and the encoded changes
// that follow them.
struct OpsHeader {
  std::string_view doc;
  std::uint64_t first_seq = 0;
  std::uint64_t count = 0;
  std::string_view changes;
};

std::optional<OpsHeader> ParseHeader(std::string_view message) {
  ByteReader r(message);
  if (r.U8() != static_cast<std::uint8_t>(MessageType::kOps)) {
    return std::nullopt;
  }
  OpsHeader h;
  h.doc = r.Bytes();
  h.first_seq = r.VarUint();
  h.count = r.VarUint();
  if (!r.ok() || h.doc.empty()) return std::nullopt;
  h.changes = message.substr(message.size() - r.remaining());
  return h;
}

}  // namespace

bool AppendOps(std::string& merged, std::string_view next,
               std::size_t max_bytes) {
  if (merged.size() + next.size() > max_bytes) return false;
  auto a = ParseHeader(merged);
  if (!a) return false;
  auto b = ParseHeader(next);
  if (!b || a->doc != b->doc || a->count == 0 || b->count == 0 ||
      a->first_seq > UINT64_MAX - a->count ||
      b->first_seq != a->first_seq + a->count ||
      a->count > UINT64_MAX - b->count) {
    return false;
  }
  ByteWriter w;
  w.U8(static_cast<std::uint8_t>(MessageType::kOps));
  w.Bytes(a->doc);
  w.VarUint(a->first_seq);
  w.VarUint(a->count + b->count);
  std::size_t header = merged.size() - a->changes.size();
  std::string_view more = b->changes;
  // In place: the header keeps its length unless the count's varuint
  // grows a byte.
  merged.replace(0, header, w.data());
  merged.append(more);
  return true;
}

}  // namespace weft::proto
