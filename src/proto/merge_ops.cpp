#include "proto/merge_ops.h"

#include <cstdint>
#include <optional>
#include <utility>

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

// The headers of `a` and `b` when b's changes can follow a's in one `ops`.
std::optional<std::pair<OpsHeader, OpsHeader>> Joinable(std::string_view a,
                                                        std::string_view b,
                                                        std::size_t max_bytes) {
  if (a.size() + b.size() > max_bytes) return std::nullopt;
  auto ha = ParseHeader(a);
  if (!ha) return std::nullopt;
  auto hb = ParseHeader(b);
  if (!hb || ha->doc != hb->doc || ha->count == 0 || hb->count == 0 ||
      ha->first_seq > UINT64_MAX - ha->count ||
      hb->first_seq != ha->first_seq + ha->count ||
      ha->count > UINT64_MAX - hb->count) {
    return std::nullopt;
  }
  return std::pair{*ha, *hb};
}

}  // namespace

bool CanAppendOps(std::string_view merged, std::string_view next,
                  std::size_t max_bytes) {
  return Joinable(merged, next, max_bytes).has_value();
}

bool AppendOps(std::string& merged, std::string_view next,
               std::size_t max_bytes) {
  auto joined = Joinable(merged, next, max_bytes);
  if (!joined) return false;
  const auto& [ha, hb] = *joined;
  const OpsHeader* a = &ha;
  const OpsHeader* b = &hb;
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
