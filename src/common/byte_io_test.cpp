#include "common/byte_io.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <limits>

namespace weft {
namespace {

std::string Encode(std::uint64_t v) {
  ByteWriter w;
  w.VarUint(v);
  return w.Take();
}

TEST(ByteIoTest, VarUintKnownEncodings) {
  EXPECT_EQ(Encode(0), std::string("\x00", 1));
  EXPECT_EQ(Encode(127), "\x7f");
  EXPECT_EQ(Encode(128), "\x80\x01");
  EXPECT_EQ(Encode(300), "\xac\x02");
  EXPECT_EQ(Encode(std::numeric_limits<std::uint64_t>::max()).size(), 10u);
}

RC_GTEST_PROP(ByteIoProperty, VarUintRoundTrips, (std::uint64_t v)) {
  const std::string bytes = Encode(v);  // the reader views, not owns, it
  ByteReader r(bytes);
  RC_ASSERT(r.VarUint() == v);
  RC_ASSERT(r.Finish().ok());
}

RC_GTEST_PROP(ByteIoProperty, BytesRoundTrip, (std::string a, std::string b)) {
  ByteWriter w;
  w.Bytes(a);
  w.Bytes(b);
  ByteReader r(w.data());
  RC_ASSERT(std::string(r.Bytes()) == a);
  RC_ASSERT(std::string(r.Bytes()) == b);
  RC_ASSERT(r.Finish().ok());
}

RC_GTEST_PROP(ByteIoProperty, EveryTruncationFailsCleanly,
              (std::uint64_t v, std::string s)) {
  ByteWriter w;
  w.VarUint(v);
  w.Bytes(s);
  const std::string full = w.Take();
  for (std::size_t n = 0; n < full.size(); ++n) {
    ByteReader r(std::string_view(full).substr(0, n));
    r.VarUint();
    r.Bytes();
    RC_ASSERT(!r.ok());
    RC_ASSERT(r.status().code() == StatusCode::kCorruption);
  }
}

TEST(ByteIoTest, RejectsOverlongAndOverflowingVarUints) {
  ByteReader overlong(std::string("\x80\x00", 2));
  overlong.VarUint();
  EXPECT_NE(overlong.status().message().find("overlong"), std::string::npos);

  ByteReader overflow(std::string(10, '\xff') + "\x01");
  overflow.VarUint();
  EXPECT_NE(overflow.status().message().find("overflow"), std::string::npos);

  ByteReader eleven("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02");
  eleven.VarUint();
  EXPECT_FALSE(eleven.ok());
}

TEST(ByteIoTest, HugeLengthDoesNotAllocateOrOverread) {
  ByteWriter w;
  w.VarUint(std::numeric_limits<std::uint64_t>::max());
  w.U8('x');
  ByteReader r(w.data());
  EXPECT_TRUE(r.Bytes().empty());
  EXPECT_NE(r.status().message().find("length exceeds input"),
            std::string::npos);
}

TEST(ByteIoTest, ErrorsAreStickyAndTrailingBytesFail) {
  ByteReader r("\x05");
  EXPECT_EQ(r.U8(), 5);
  EXPECT_EQ(r.U8(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.VarUint(), 0u);
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos);

  ByteReader t("\x01\x02");
  t.U8();
  EXPECT_EQ(t.Finish().code(), StatusCode::kCorruption);
}

TEST(ByteIoTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("a\x80"));  // stray continuation
  ByteWriter w;
  w.Bytes("\xe2\x82");
  ByteReader r(w.data());
  r.Utf8();
  EXPECT_NE(r.status().message().find("invalid utf-8"), std::string::npos);
}

}  // namespace
}  // namespace weft
