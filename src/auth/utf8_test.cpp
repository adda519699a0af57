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

}  // namespace
}  // namespace weft::auth
