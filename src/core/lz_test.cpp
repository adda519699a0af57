#include "core/lz.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace weft::core {
namespace {

TEST(LzTest, RoundTripsAndCompressesRepeats) {
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += "\\section{CRDTs} text " + std::to_string(i % 7);
  std::string c = LzCompress(text);
  EXPECT_LT(c.size(), text.size() / 3);
  std::string back;
  ASSERT_TRUE(LzDecompress(c, text.size(), &back).ok());
  EXPECT_EQ(back, text);
  EXPECT_EQ(LzDecompress(c, text.size() - 1, &back).code(),
            StatusCode::kCorruption);
  for (std::string s : {std::string(), std::string("a"), std::string("abcd"),
                        std::string(100, 'x')}) {
    ASSERT_TRUE(LzDecompress(LzCompress(s), s.size(), &back).ok());
    EXPECT_EQ(back, s);
  }
}

TEST(LzTest, RoundTripsTextsLongerThanTheWindow) {
  std::string text;
  uint32_t x = 12345;
  for (int i = 0; i < 300000; ++i) {
    x = x * 1103515245 + 12345;
    // Mostly a small alphabet with repeats near and far.
    text.push_back(static_cast<char>('a' + (x >> 16) % 6));
    if (i % 1000 == 999) text += text.substr(text.size() / 2, 200);
  }
  std::string c = LzCompress(text);
  std::string back;
  ASSERT_TRUE(LzDecompress(c, text.size(), &back).ok());
  EXPECT_EQ(back, text);
  EXPECT_EQ(LzCompress(text), c);  // deterministic
}

TEST(LzTest, RejectsHostileInput) {
  std::string out;
  // A match before the start of the output.
  EXPECT_FALSE(LzDecompress(std::string("\x01"
                                        "a"
                                        "\x00\x05",
                                        4),
                            100, &out)
                   .ok());
  // A huge match length.
  EXPECT_FALSE(LzDecompress(std::string("\x01"
                                        "a"
                                        "\xFF\xFF\xFF\xFF\x0F\x00",
                                        8),
                            1 << 20, &out)
                   .ok());
  // Literal length past the input.
  EXPECT_FALSE(LzDecompress(std::string("\x09"
                                        "ab",
                                        3),
                            100, &out)
                   .ok());
}

TEST(LzTest, FailureLeavesOnlyTheBytesWritten) {
  // Ten literal bytes, then a match reaching before the start: the output
  // holds the ten bytes, never the decoder's larger working buffer.
  std::string out;
  EXPECT_FALSE(LzDecompress(std::string("\x0A"
                                        "0123456789"
                                        "\x00\x20",
                                        13),
                            16, &out)
                   .ok());
  EXPECT_EQ(out, "0123456789");
  EXPECT_FALSE(LzDecompress(std::string("\x0A"
                                        "0123456789"
                                        "\x7F\x00",
                                        13),
                            16, &out)
                   .ok());  // a match longer than the output may grow
  EXPECT_LE(out.size(), 16u);
}

RC_GTEST_PROP(LzTest, RoundTripsAnyBytes, (const std::string& s)) {
  std::string doubled = s + s + s.substr(0, s.size() / 2);
  std::string back;
  RC_ASSERT(LzDecompress(LzCompress(doubled), doubled.size(), &back).ok());
  RC_ASSERT(back == doubled);
}

}  // namespace
}  // namespace weft::core
