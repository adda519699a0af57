#pragma once

#include <array>
#include <cstdint>

namespace weft::load {

// A log-linear histogram of latencies in microseconds: exact below 128 µs,
// then 64 buckets per power of two (relative error under 1.6 %), up to
// 2^40 µs. Recording is O(1) and allocation-free; percentiles are read from
// the buckets. Not thread-safe: keep one per thread and Merge them.
class LatencyHistogram {
 public:
  void Record(std::uint64_t micros);
  void Merge(const LatencyHistogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t max_micros() const { return max_; }
  // The value at quantile q in [0, 1] (nearest rank), as the midpoint of its
  // bucket, clamped to the largest value recorded; 0 when empty.
  std::uint64_t PercentileMicros(double q) const;

 private:
  static constexpr int kSubBits = 6;  // 64 sub-buckets per power of two
  static constexpr int kMaxBits = 40;
  static constexpr int kBuckets = (kMaxBits - kSubBits + 1) << kSubBits;

  static int BucketOf(std::uint64_t v);
  static std::uint64_t LowOf(int bucket);
  static std::uint64_t HighOf(int bucket);

  std::array<std::uint64_t, kBuckets + (1 << kSubBits)> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace weft::load
