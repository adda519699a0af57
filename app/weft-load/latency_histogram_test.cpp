#include "latency_histogram.h"

#include <gtest/gtest.h>

namespace weft::load {
namespace {

TEST(LatencyHistogramTest, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.PercentileMicros(0.99), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.PercentileMicros(0.5), 50u);
  EXPECT_EQ(h.PercentileMicros(0.99), 99u);
  EXPECT_EQ(h.PercentileMicros(1.0), 100u);
  EXPECT_EQ(h.max_micros(), 100u);
}

TEST(LatencyHistogramTest, LargeValuesWithinTwoPercent) {
  LatencyHistogram h;
  // 1,000 values: 1 ms .. 1000 ms.
  for (std::uint64_t i = 1; i <= 1000; ++i) h.Record(i * 1000);
  for (double q : {0.5, 0.95, 0.99}) {
    double want = q * 1000 * 1000;
    double got = static_cast<double>(h.PercentileMicros(q));
    EXPECT_NEAR(got, want, want * 0.02) << q;
  }
  EXPECT_EQ(h.max_micros(), 1000000u);
}

TEST(LatencyHistogramTest, MergeAddsCountsAndKeepsMax) {
  LatencyHistogram a, b;
  for (int i = 0; i < 99; ++i) a.Record(10);
  b.Record(5000000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 100u);
  EXPECT_EQ(a.PercentileMicros(0.99), 10u);
  EXPECT_EQ(a.PercentileMicros(1.0), 5000000u);
  EXPECT_EQ(a.max_micros(), 5000000u);
}

TEST(LatencyHistogramTest, HugeValuesClampIntoLastBucket) {
  LatencyHistogram h;
  h.Record(std::uint64_t{1} << 60);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_GT(h.PercentileMicros(0.5), std::uint64_t{1} << 39);
}

}  // namespace
}  // namespace weft::load
