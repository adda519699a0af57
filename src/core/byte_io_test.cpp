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

}  // namespace
}  // namespace weft::core
