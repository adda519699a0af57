#pragma once

// Coalescing of `ops` messages (docs/protocol.md §3) without decoding
// their changes: a connection whose previous write is still in flight can
// send the `ops` that queued meanwhile as one message, so one system call
// carries many edits. The merged message is exactly what the server would
// have encoded for the same changes in one `ops`.

#include <cstddef>
#include <string>
#include <string_view>

namespace weft::proto {

// If `merged` and `next` are both `ops` of the same document and `next`
// starts right after `merged` ends (its first_seq is merged's first_seq plus
// its count), appends next's changes to `merged` (rewriting only its count)
// and returns true; otherwise (other messages, other documents, a gap,
// bytes that do not parse, or a result over `max_bytes`) leaves `merged`
// as it was and returns false. Appending a run of n messages this way
// copies each byte once.
bool AppendOps(std::string& merged, std::string_view next,
               std::size_t max_bytes);
// Whether AppendOps(merged, next, max_bytes) would append, without copying.
bool CanAppendOps(std::string_view merged, std::string_view next,
                  std::size_t max_bytes);

}  // namespace weft::proto
