#include "core/utf.h"

#include <cstdint>
#include <cstring>

namespace weft::core {

namespace {

// Why DecodeOne refused a sequence (its result -1, -2, -3, -4).
constexpr const char* kWhy[] = {"invalid UTF-8 lead byte", "truncated UTF-8",
                                "bad UTF-8 byte", "invalid UTF-8 code point"};

// Decodes the multi-byte sequence at `p` (whose lead byte is not ASCII):
// its length, or minus the 1-based index into kWhy of why it is invalid.
int DecodeOne(const unsigned char* p, const unsigned char* end, char32_t* out) {
  unsigned char c = *p;
  int extra;
  char32_t cp;
  char32_t min;
  if ((c & 0xE0) == 0xC0) {
    extra = 1;
    cp = c & 0x1F;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    extra = 2;
    cp = c & 0x0F;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    extra = 3;
    cp = c & 0x07;
    min = 0x10000;
  } else {
    return -1;
  }
  if (end - p <= extra) return -2;
  for (int i = 1; i <= extra; ++i) {
    unsigned char k = p[i];
    if ((k & 0xC0) != 0x80) return -3;
    cp = (cp << 6) | (k & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return -4;
  }
  *out = cp;
  return extra + 1;
}

// Walks valid UTF-8, calling ascii(first, last) for each run of ASCII bytes
// and other(cp) for every other code point; the one validator behind
// DecodeUtf8 and CountCodePoints.
template <typename Ascii, typename Other>
Status WalkUtf8(std::string_view utf8, Ascii ascii, Other other) {
  const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  const auto* end = p + utf8.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      const unsigned char* q = p + 1;
      // Eight ASCII bytes at a time, then byte by byte.
      while (end - q >= 8) {
        uint64_t w;
        std::memcpy(&w, q, 8);
        if ((w & 0x8080808080808080ull) != 0) break;
        q += 8;
      }
      while (q < end && *q < 0x80) ++q;
      ascii(p, q);
      p = q;
      continue;
    }
    char32_t cp = 0;
    int n = DecodeOne(p, end, &cp);
    if (n < 0) return Status::Corruption(kWhy[-n - 1]);
    other(cp);
    p += n;
  }
  return Status::Ok();
}

}  // namespace

Status DecodeUtf8(std::string_view utf8, std::u32string* out) {
  return WalkUtf8(
      utf8,
      [out](const unsigned char* p, const unsigned char* q) {
        // Widen an ASCII run in one resize instead of a push_back per byte.
        size_t at = out->size();
        out->resize(at + static_cast<size_t>(q - p));
        char32_t* dst = out->data() + at;
        for (; p < q; ++p) *dst++ = *p;
      },
      [out](char32_t cp) { out->push_back(cp); });
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

Result<uint64_t> CountCodePoints(std::string_view utf8) {
  uint64_t n = 0;
  Status s = WalkUtf8(
      utf8,
      [&n](const unsigned char* p, const unsigned char* q) {
        n += static_cast<uint64_t>(q - p);
      },
      [&n](char32_t) { ++n; });
  if (!s.ok()) return s;
  return n;
}

Result<uint64_t> Utf16ToCodePointOffset(std::string_view utf8,
                                        uint64_t utf16_offset) {
  std::u32string cps;
  Status s = DecodeUtf8(utf8, &cps);
  if (!s.ok()) return s;
  uint64_t units = 0;
  for (uint64_t i = 0; i < cps.size(); ++i) {
    if (units == utf16_offset) return i;
    units += cps[i] >= 0x10000 ? 2 : 1;
    if (units > utf16_offset) {
      return Status::InvalidArgument("UTF-16 offset splits a surrogate pair");
    }
  }
  if (units == utf16_offset) return static_cast<uint64_t>(cps.size());
  return Status::InvalidArgument("UTF-16 offset past the end");
}

Result<uint64_t> CodePointToUtf16Offset(std::string_view utf8,
                                        uint64_t cp_offset) {
  std::u32string cps;
  Status s = DecodeUtf8(utf8, &cps);
  if (!s.ok()) return s;
  if (cp_offset > cps.size()) {
    return Status::InvalidArgument("code point offset past the end");
  }
  uint64_t units = 0;
  for (uint64_t i = 0; i < cp_offset; ++i) units += cps[i] >= 0x10000 ? 2 : 1;
  return units;
}

bool IsValidUtf8(std::string_view utf8) {
  return WalkUtf8(
             utf8, [](const unsigned char*, const unsigned char*) {},
             [](char32_t) {})
      .ok();
}

std::string ValidUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    char32_t cp = 0;
    int n = *p < 0x80 ? 1 : DecodeOne(p, end, &cp);
    if (n > 0) {
      out.append(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
      p += n;
    } else {
      AppendUtf8(0xFFFD, &out);
      ++p;
    }
  }
  return out;
}

}  // namespace weft::core
