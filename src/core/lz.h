#pragma once

// A small LZ77 byte compressor for snapshot text (no zlib in core: the same
// source builds with em++). Greedy matching over a 64 KiB window.
//
//   lz     := token*
//   token  := varuint(nlit) bytes(nlit) [varuint(len - 4) varuint(dist - 1)]
//
// The match part is absent only in the last token. Decompression checks
// every length and distance and never writes more than `max_out` bytes.
// Pure functions, thread-safe.

#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::core {

std::string LzCompress(std::string_view in);

// kCorruption if `in` is malformed, refers before the start of the output
// or would produce more than `max_out` bytes. Reserves `max_out` bytes up
// front, so callers must bound it (TextDoc: max(1 MiB, 256 x input)).
Status LzDecompress(std::string_view in, size_t max_out, std::string* out);

}  // namespace weft::core
