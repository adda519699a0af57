#include "latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace weft::load {

int LatencyHistogram::BucketOf(std::uint64_t v) {
  v = std::min<std::uint64_t>(v, (std::uint64_t{1} << kMaxBits) - 1);
  int msb = 63 - std::countl_zero(v | 1);
  if (msb <= kSubBits) return static_cast<int>(v);  // exact below 128
  int shift = msb - kSubBits;
  return (shift << kSubBits) + static_cast<int>(v >> shift);
}

std::uint64_t LatencyHistogram::LowOf(int bucket) {
  if (bucket < (2 << kSubBits)) return static_cast<std::uint64_t>(bucket);
  int shift = (bucket >> kSubBits) - 1;
  std::uint64_t mantissa = static_cast<std::uint64_t>(
      (bucket & ((1 << kSubBits) - 1)) + (1 << kSubBits));
  return mantissa << shift;
}

std::uint64_t LatencyHistogram::HighOf(int bucket) {
  return LowOf(bucket + 1) - 1;
}

void LatencyHistogram::Record(std::uint64_t micros) {
  ++buckets_[static_cast<std::size_t>(BucketOf(micros))];
  ++count_;
  max_ = std::max(max_, micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    buckets_[i] += other.buckets_[i];
  }
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

std::uint64_t LatencyHistogram::PercentileMicros(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank =
      static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      int b = static_cast<int>(i);
      std::uint64_t mid = (LowOf(b) + HighOf(b)) / 2;
      return std::min(mid, max_);
    }
  }
  return max_;
}

}  // namespace weft::load
