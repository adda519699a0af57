#include "auth/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace weft::auth {
namespace {

TEST(Utf8Test, CountsCodePoints) {
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("h\xC3\xA9llo"), 5u);          // é
  EXPECT_EQ(Utf8Length("\xE2\x82\xAC"), 1u);          // €
  EXPECT_EQ(Utf8Length("\xF0\x9F\x98\x80x"), 2u);     // 😀 x
  EXPECT_EQ(Utf8Length(std::string("a\0b", 3)), 3u);  // NUL is valid UTF-8
}

TEST(Utf8Test, RejectsMalformed) {
  EXPECT_FALSE(Utf8Length("\x80").has_value());              // lone cont.
  EXPECT_FALSE(Utf8Length("\xC3").has_value());              // truncated
  EXPECT_FALSE(Utf8Length("\xC0\xAF").has_value());          // overlong '/'
  EXPECT_FALSE(Utf8Length("\xE0\x80\xAF").has_value());      // overlong
  EXPECT_FALSE(Utf8Length("\xED\xA0\x80").has_value());      // surrogate
  EXPECT_FALSE(Utf8Length("\xF4\x90\x80\x80").has_value());  // > U+10FFFF
  EXPECT_FALSE(Utf8Length("\xFF").has_value());
  EXPECT_FALSE(Utf8Length("\xC3x").has_value());  // bad continuation
}

TEST(Utf8Test, ControlCharacters) {
  EXPECT_FALSE(HasControlCharacter("plain text \xC3\xA9"));
  EXPECT_TRUE(HasControlCharacter("a\nb"));
  EXPECT_TRUE(HasControlCharacter("a\tb"));
  EXPECT_TRUE(HasControlCharacter(std::string("a\0b", 3)));
  EXPECT_TRUE(HasControlCharacter("a\x7F"));
}

TEST(Utf8Test, VisibleCharacters) {
  for (const char* blank : {
           "", " ", "\xE2\x80\x8B",             // U+200B zero width space
           "\xE2\x80\xAE",                      // U+202E right-to-left override
           "\xEF\xBB\xBF",                      // U+FEFF
           "\xC2\xAD",                          // U+00AD soft hyphen
           "\xE3\x80\x80",                      // U+3000 ideographic space
           "\xC2\xA0\xE2\x80\x8D\xE2\x81\xA0",  // NBSP, ZWJ, word joiner
           "\xE2\xA0\x80",                      // U+2800 braille blank
           "\xE3\x85\xA4",                      // U+3164 hangul filler
           "\xF3\xA0\x80\x81",                  // U+E0001 language tag
       }) {
    EXPECT_FALSE(HasVisibleCharacter(blank)) << blank;
  }
  EXPECT_TRUE(HasVisibleCharacter("a"));
  EXPECT_TRUE(
      HasVisibleCharacter("\xE2\x80\x8B"
                          "b"));                         // ZWSP then b
  EXPECT_TRUE(HasVisibleCharacter("\xC3\xA9"));          // é
  EXPECT_TRUE(HasVisibleCharacter("\xE6\x97\xA5"));      // 日
  EXPECT_TRUE(HasVisibleCharacter("\xF0\x9F\x98\x80"));  // emoji
  EXPECT_FALSE(HasVisibleCharacter("\xC3"));             // ill-formed
}

}  // namespace
}  // namespace weft::auth
