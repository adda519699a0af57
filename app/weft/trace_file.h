#pragma once

// Editing traces in josephg's editing-traces format (sequential and
// concurrent), read from `.json` or `.json.gz` files into compact arrays.
// Positions and lengths are Unicode code points.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::trace {

struct Patch {
  uint32_t pos;
  uint32_t del;
  uint32_t ins_off;  // into Trace::arena
  uint32_t ins_len;  // bytes
};

struct Txn {
  uint32_t agent = 0;
  uint32_t first_patch = 0;
  uint32_t num_patches = 0;
  std::vector<uint32_t> parents;  // concurrent traces only
};

struct Trace {
  bool concurrent = false;
  uint32_t num_agents = 1;
  std::string end_content;
  std::string arena;  // inserted text of all patches, UTF-8
  std::vector<Patch> patches;
  std::vector<Txn> txns;

  std::string_view Inserted(const Patch& p) const {
    return std::string_view(arena).substr(p.ins_off, p.ins_len);
  }
};

// Parses the JSON text of a trace. kCorruption if it is not one.
Result<Trace> ParseTrace(std::string_view json);
// Reads (gunzipping when the name ends in .gz) and parses a trace file.
Result<Trace> LoadTraceFile(const std::string& path);

}  // namespace weft::trace
