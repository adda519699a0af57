#pragma once

// Coalescing of `ops` messages (docs/protocol.md §3) without decoding
// their changes: a connection whose previous write is still in flight can
// send the `ops` that queued meanwhile as one message, so one system call
// carries many edits. The merged message is exactly what the server would
// have encoded for the same changes in one `ops`.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace weft::proto {

// If `first` and `second` are both `ops` of the same document and
// `second` starts right after `first` ends (its first_seq is first's
// first_seq plus its count), returns one `ops` with the changes of both, in
// order; otherwise (other messages, other documents, a gap, bytes that do
// not parse, or a result over `max_bytes`) nullopt.
std::optional<std::string> MergeOps(std::string_view first,
                                    std::string_view second,
                                    std::size_t max_bytes);

}  // namespace weft::proto
