#include "core/byte_io.h"

#include <gtest/gtest.h>

namespace weft::core {
namespace {

TEST(ByteIoTest, VarUintRoundTrip) {
  ByteWriter w;
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, ~0ull}) w.VarUint(v);
  std::string b = w.Take();
  ByteReader r(b);
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, ~0ull}) {
    uint64_t got;
    ASSERT_TRUE(r.VarUint(&got).ok());
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(r.AtEnd());
}

TEST(ByteIoTest, RejectsTruncatedAndOverlongInput) {
  uint64_t v;
  ByteReader truncated(std::string_view("\x80\x80", 2));
  EXPECT_EQ(truncated.VarUint(&v).code(), StatusCode::kCorruption);
  std::string overflow(10, '\xFF');
  overflow.back() = '\x02';
  ByteReader r(overflow);
  EXPECT_EQ(r.VarUint(&v).code(), StatusCode::kCorruption);
  ByteReader len(
      std::string_view("\x05"
                       "ab",
                       3));
  std::string_view out;
  EXPECT_EQ(len.LengthPrefixed(&out).code(), StatusCode::kCorruption);
}

TEST(ByteIoTest, BulkReaderReadsWhatByteReaderReads) {
  ByteWriter w;
  w.U8(7);
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, ~0ull}) w.VarUint(v);
  w.VarSint(-5);
  w.LengthPrefixed("abc");
  std::string b = w.Take();
  BulkReader r(b);
  EXPECT_EQ(r.U8(), 7);
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, ~0ull}) {
    EXPECT_EQ(r.VarUint(), v);
  }
  EXPECT_EQ(r.SeqDelta(10), 5u);
  EXPECT_EQ(r.LengthPrefixed(), "abc");
  EXPECT_TRUE(r.AtEnd());
  EXPECT_FALSE(r.failed());
  EXPECT_TRUE(r.status().ok());
}

TEST(ByteIoTest, BulkReaderFailureIsSticky) {
  BulkReader r(std::string_view("\x05\x80", 2));
  EXPECT_EQ(r.VarUintMax(4), 0u);  // 5 > 4
  EXPECT_TRUE(r.failed());
  EXPECT_STREQ(r.error(), "value out of range");
  // Everything after the first failure reads as zero and keeps that error.
  EXPECT_EQ(r.U8(), 0);
  EXPECT_EQ(r.VarUint(), 0u);
  EXPECT_EQ(r.LengthPrefixed(), "");
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(r.status().message(), "value out of range");

  BulkReader seq(std::string_view("\x03", 1));  // zigzag -2
  EXPECT_EQ(seq.SeqDelta(1), 0u);
  EXPECT_STREQ(seq.error(), "seq out of range");

  std::string overflow(10, '\xFF');
  overflow.back() = '\x02';
  BulkReader big(overflow);
  EXPECT_EQ(big.VarUint(), 0u);
  EXPECT_STREQ(big.error(), "varuint overflow");
  BulkReader cut(std::string_view("\x80\x80", 2));
  EXPECT_EQ(cut.VarUint(), 0u);
  EXPECT_STREQ(cut.error(), "unexpected end");
}

}  // namespace
}  // namespace weft::core
