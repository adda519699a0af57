#include "core/utf8_text.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "core/utf.h"

namespace weft::core {
namespace {

// Checks every ByteOffset and a spread of slices against a decoded copy.
void ExpectMatches(const Utf8Text& t, const std::u32string& want) {
  ASSERT_EQ(t.size(), want.size());
  std::string utf8;
  std::vector<uint64_t> offsets;
  for (char32_t c : want) {
    offsets.push_back(utf8.size());
    AppendUtf8(c, &utf8);
  }
  offsets.push_back(utf8.size());
  ASSERT_EQ(t.bytes(), utf8.size());
  for (uint64_t i = 0; i <= want.size(); ++i) {
    ASSERT_EQ(t.ByteOffset(i), offsets[i]) << "code point " << i;
  }
  for (uint64_t from = 0; from <= want.size(); from += 7) {
    for (uint64_t n : {0, 1, 63, 64, 65, 200}) {
      if (from + n > want.size()) continue;
      ASSERT_EQ(t.Slice(from, n),
                std::string_view(utf8).substr(
                    offsets[from], offsets[from + n] - offsets[from]))
          << from << "+" << n;
    }
  }
}

void Append(Utf8Text* t, std::u32string* want, const std::u32string& cps) {
  std::string utf8;
  for (char32_t c : cps) AppendUtf8(c, &utf8);
  t->Append(utf8, cps.size());
  if (want != nullptr) *want += cps;
}

TEST(Utf8TextTest, AssignIndexesLikeAppends) {
  for (const std::u32string& cps :
       {std::u32string(200, U'q'), std::u32string(), std::u32string(64, U'a'),
        std::u32string(U"\u00e9\u20ac\U0001F600x") +
            std::u32string(130, 0x20AC)}) {
    std::string utf8;
    for (char32_t c : cps) AppendUtf8(c, &utf8);
    Utf8Text t;
    Append(&t, nullptr, U"old");  // replaced
    t.Assign(utf8, cps.size());
    ExpectMatches(t, cps);
  }
}

TEST(Utf8TextTest, AsciiOnly) {
  Utf8Text t;
  std::u32string want;
  for (int i = 0; i < 300; ++i)
    Append(&t, &want, std::u32string(1, U'a' + i % 26));
  ExpectMatches(t, want);
}

TEST(Utf8TextTest, AllWidthsAcrossStrideBoundaries) {
  // Runs of 1-, 2-, 3- and 4-byte code points whose lengths straddle the
  // kStride marks, appended one by one and in long chunks.
  Utf8Text t;
  std::u32string want;
  const char32_t kinds[] = {U'x', 0xE9,  0x20AC, 0x1F600, 0x10FFFF,
                            0x80, 0x7FF, 0x800,  0xFFFF,  0x10000};
  for (int round = 0; round < 40; ++round) {
    char32_t c = kinds[round % 10];
    size_t n = (round * 37) % 131 + 1;  // 1..131 code points
    if (round % 3 == 0) {
      for (size_t k = 0; k < n; ++k) Append(&t, &want, std::u32string(1, c));
    } else {
      Append(&t, &want, std::u32string(n, c));
    }
  }
  ExpectMatches(t, want);
}

TEST(Utf8TextTest, AsciiPrefixThenFourByteCodePoints) {
  // The all-ASCII fast path must stop once a multi-byte code point arrives.
  Utf8Text t;
  std::u32string want;
  Append(&t, &want, std::u32string(Utf8Text::kStride - 1, U'a'));
  Append(&t, &want, std::u32string(3, 0x1F600));
  Append(&t, &want, std::u32string(Utf8Text::kStride * 2, U'b'));
  ExpectMatches(t, want);
  EXPECT_EQ(t.ByteOffset(Utf8Text::kStride), Utf8Text::kStride - 1 + 4 * 1);
  EXPECT_EQ(t.Slice(Utf8Text::kStride - 2, 2), "a\xF0\x9F\x98\x80");
}

TEST(Utf8TextTest, EmptyAppendsAndEmptySlices) {
  Utf8Text t;
  EXPECT_EQ(t.ByteOffset(0), 0u);
  EXPECT_EQ(t.Slice(0, 0), "");
  t.Append("", 0);
  t.Append("\xC3\xA9", 1);
  t.Append("", 0);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.ByteOffset(1), 2u);
  EXPECT_EQ(t.Slice(1, 0), "");
  t.ShrinkToFit();
  EXPECT_EQ(t.Slice(0, 1), "\xC3\xA9");
}

RC_GTEST_PROP(Utf8TextProperty, OffsetsMatchDecodedText,
              (const std::vector<std::vector<uint32_t>>& chunks)) {
  Utf8Text t;
  std::u32string want;
  for (const auto& chunk : chunks) {
    std::u32string cps;
    for (uint32_t v : chunk) {
      // Spread over all widths, skipping surrogates.
      char32_t c = v % 4 == 0   ? v % 0x80
                   : v % 4 == 1 ? 0x80 + v % 0x780
                   : v % 4 == 2 ? 0xE000 + v % 0x2000
                                : 0x10000 + v % 0x100000;
      cps.push_back(c);
    }
    Append(&t, &want, cps);
  }
  ExpectMatches(t, want);
}

}  // namespace
}  // namespace weft::core
