#include "core/utf.h"

#include <gtest/gtest.h>

namespace weft::core {
namespace {

TEST(UtfTest, DecodesAndEncodesAllWidths) {
  std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a é € 😀
  std::u32string cps;
  ASSERT_TRUE(DecodeUtf8(s, &cps).ok());
  EXPECT_EQ(cps, (std::u32string{U'a', 0xE9, 0x20AC, 0x1F600}));
  std::string back;
  for (char32_t c : cps) AppendUtf8(c, &back);
  EXPECT_EQ(back, s);
}

TEST(UtfTest, RejectsInvalidUtf8) {
  for (std::string bad :
       {std::string("\xC3"), std::string("\xC0\x80"),
        std::string("\xED\xA0\x80"), std::string("\xF4\x90\x80\x80"),
        std::string("\x80"), std::string("\xFF")}) {
    std::u32string cps;
    Status st = DecodeUtf8(bad, &cps);
    EXPECT_EQ(st.code(), StatusCode::kCorruption) << bad.size();
  }
}

// Rendering unchecked bytes: every byte that starts no valid sequence
// becomes U+FFFD; valid text is kept as it is.
TEST(UtfTest, ValidUtf8ReplacesEachInvalidByte) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(ValidUtf8("a\xC3\xA9\xF0\x9F\x98\x80"),
            "a\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(ValidUtf8("a\xC3("), "a" + r + "(");
  EXPECT_EQ(ValidUtf8("\xC0\x80"), r + r);
  EXPECT_EQ(ValidUtf8("\xED\xA0\x80z"), r + r + r + "z");
  EXPECT_EQ(ValidUtf8("\xE2\x82"), r + r);
  EXPECT_TRUE(IsValidUtf8(ValidUtf8("\xFF\xF4\x90\x80\x80")));
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));
  EXPECT_TRUE(IsValidUtf8(""));
}

TEST(UtfTest, Utf16Offsets) {
  std::string s =
      "a\xF0\x9F\x98\x80"
      "b";  // a 😀 b: UTF-16 a, hi, lo, b
  EXPECT_EQ(*CodePointToUtf16Offset(s, 0), 0u);
  EXPECT_EQ(*CodePointToUtf16Offset(s, 2), 3u);
  EXPECT_EQ(*CodePointToUtf16Offset(s, 3), 4u);
  EXPECT_EQ(*Utf16ToCodePointOffset(s, 3), 2u);
  EXPECT_EQ(*Utf16ToCodePointOffset(s, 4), 3u);
  EXPECT_EQ(Utf16ToCodePointOffset(s, 2).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Utf16ToCodePointOffset(s, 5).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodePointToUtf16Offset(s, 4).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace weft::core
