#include "server/case_fold.h"

#include "common/byte_io.h"
#include "core/utf.h"

namespace weft::server {
namespace {

char32_t Fold(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;  // À..Þ, not ×
  if (c == 0x130) return 'i';                              // İ
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) {
    return c % 2 == 0 ? c + 1 : c;  // Ā ā ... Ķ ķ, Ŋ ŋ ... Ŷ ŷ
  }
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) {
    return c % 2 == 1 ? c + 1 : c;  // Ĺ ĺ ... Ň ň, Ź ź ... Ž ž
  }
  if (c == 0x178) return 0xFF;                                // Ÿ
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;  // Α..Ω
  if (c == 0x386) return 0x3AC;                               // Ά
  if (c >= 0x388 && c <= 0x38A) return c + 37;                // Έ Ή Ί
  if (c == 0x38C) return 0x3CC;                               // Ό
  if (c == 0x38E || c == 0x38F) return c + 63;                // Ύ Ώ
  if (c == 0x3C2) return 0x3C3;                               // ς
  if (c >= 0x410 && c <= 0x42F) return c + 32;                // А..Я
  if (c >= 0x400 && c <= 0x40F) return c + 80;                // Ѐ..Џ
  if (c == 0x1E9E) return 0xDF;                               // ẞ
  return c;
}

}  // namespace

std::string FoldCase(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size();) {
    std::size_t start = i;
    if (auto c = DecodeUtf8(utf8, &i)) {
      core::AppendUtf8(Fold(*c), &out);
    } else {
      out.push_back(utf8[start]);  // not UTF-8: kept
      i = start + 1;
    }
  }
  return out;
}

}  // namespace weft::server
