#include "auth/base64url.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

namespace weft::auth {
namespace {

TEST(Base64UrlTest, Rfc4648Vectors) {
  // RFC 4648 §10 vectors, without padding.
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlDecode("Zm9vYmE"), "fooba");
}

TEST(Base64UrlTest, UsesUrlAlphabet) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(Base64UrlDecode("-_-_"), "\xfb\xff\xbf");
}

TEST(Base64UrlTest, RejectsNonCanonicalInput) {
  EXPECT_FALSE(Base64UrlDecode("Zg==").has_value());   // padding
  EXPECT_FALSE(Base64UrlDecode("+/+/").has_value());   // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm9vY").has_value());  // length % 4 == 1
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());     // trailing bits set
  EXPECT_FALSE(Base64UrlDecode("Zm9").has_value());    // trailing bits set
  EXPECT_FALSE(Base64UrlDecode("Zm 9v").has_value());  // whitespace
  EXPECT_FALSE(Base64UrlDecode(std::string("Zm\0v", 4)).has_value());
}

RC_GTEST_PROP(Base64UrlTest, RoundTripsAnyBytes, (const std::string& bytes)) {
  std::string text = Base64UrlEncode(bytes);
  RC_ASSERT(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                   "opqrstuvwxyz0123456789-_") ==
            std::string::npos);
  RC_ASSERT(Base64UrlDecode(text) == std::optional<std::string>(bytes));
}

RC_GTEST_PROP(Base64UrlTest, EveryDecodableTextIsCanonical, ()) {
  // Text over the alphabet: whatever decodes must re-encode to exactly the
  // same text, and the only refusals are bad lengths and trailing bits.
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string text =
      *rc::gen::container<std::string>(rc::gen::elementOf(alphabet));
  auto bytes = Base64UrlDecode(text);
  if (bytes) {
    RC_ASSERT(Base64UrlEncode(*bytes) == text);
  } else {
    RC_ASSERT(text.size() % 4 != 0);
  }
}

}  // namespace
}  // namespace weft::auth
