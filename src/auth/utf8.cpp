#include "auth/utf8.h"

#include <cstdint>

#include "common/byte_io.h"

namespace weft::auth {
namespace {

// Unicode White_Space, the controls, and the default-ignorable code
// points (format characters, fillers, variation selectors, tags) and
// U+2800 BRAILLE PATTERN BLANK: what renders as nothing or as a gap.
bool Invisible(std::uint32_t cp) {
  struct Range {
    std::uint32_t first, last;
  };
  static constexpr Range kRanges[] = {
      {0x0000, 0x0020},   {0x007F, 0x00A0},   {0x00AD, 0x00AD},
      {0x034F, 0x034F},   {0x061C, 0x061C},   {0x115F, 0x1160},
      {0x1680, 0x1680},   {0x17B4, 0x17B5},   {0x180B, 0x180F},
      {0x2000, 0x200F},   {0x2028, 0x202F},   {0x205F, 0x206F},
      {0x2800, 0x2800},   {0x3000, 0x3000},   {0x3164, 0x3164},
      {0xFE00, 0xFE0F},   {0xFEFF, 0xFEFF},   {0xFFA0, 0xFFA0},
      {0xFFF0, 0xFFF8},   {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
      {0xE0000, 0xE0FFF},
  };
  for (const Range& r : kRanges) {
    if (cp >= r.first && cp <= r.last) return true;
  }
  return false;
}

}  // namespace

std::optional<std::size_t> Utf8Length(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++count) {
    if (!DecodeUtf8(text, &i)) return std::nullopt;
  }
  return count;
}

bool HasControlCharacter(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}

bool HasVisibleCharacter(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    auto cp = DecodeUtf8(text, &i);
    if (!cp) return false;
    if (!Invisible(*cp)) return true;
  }
  return false;
}

}  // namespace weft::auth
