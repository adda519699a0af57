#pragma once

// UTF-8 / UTF-16 / code point conversions. Positions in weft documents are
// counted in Unicode code points; JavaScript counts UTF-16 code units, so the
// browser converts with the helpers here. Pure functions, thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::core {

// Appends the code points of `utf8` to `out`. Rejects (kCorruption) truncated
// sequences, overlong forms, surrogates and values above U+10FFFF; `out` may
// then hold a prefix.
Status DecodeUtf8(std::string_view utf8, std::u32string* out);

// Whether `utf8` is valid UTF-8 (as DecodeUtf8 checks it).
bool IsValidUtf8(std::string_view utf8);

// `bytes` with every byte that does not start a valid UTF-8 sequence
// replaced by U+FFFD: for rendering strings that were never checked.
std::string ValidUtf8(std::string_view bytes);

// Appends the UTF-8 form of `cp` (which must be a valid scalar value).
void AppendUtf8(char32_t cp, std::string* out);

// Number of code points in `utf8`, or kCorruption if it is not valid UTF-8.
Result<uint64_t> CountCodePoints(std::string_view utf8);

// The code point offset of UTF-16 offset `utf16_offset` in `utf8`.
// kInvalidArgument if the offset is past the end or splits a surrogate pair;
// kCorruption if `utf8` is not valid UTF-8.
Result<uint64_t> Utf16ToCodePointOffset(std::string_view utf8,
                                        uint64_t utf16_offset);

// The UTF-16 offset of code point offset `cp_offset` in `utf8`.
// kInvalidArgument if past the end; kCorruption on invalid UTF-8.
Result<uint64_t> CodePointToUtf16Offset(std::string_view utf8,
                                        uint64_t cp_offset);

}  // namespace weft::core
