#include "auth/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "common/check.h"

namespace weft::auth {
namespace {

// Tolerance for floating-point refill arithmetic: 1e-9 of a token.
constexpr double kEpsilon = 1e-9;

std::int64_t CeilSeconds(double s) {
  return static_cast<std::int64_t>(std::ceil(std::max(0.0, s) - kEpsilon));
}

}  // namespace

RateLimitOptions RateLimitOptions::AuthPerIp() {
  RateLimitOptions o;
  o.capacity = 10;
  o.refill_per_second = 10.0 / 60.0;
  return o;
}

RateLimitOptions RateLimitOptions::ApiPerUser() { return RateLimitOptions{}; }

RateLimitOptions RateLimitOptions::InvitationsPerUser() {
  RateLimitOptions o;
  o.capacity = 50;
  o.refill_per_second = 50.0 / 3600.0;
  return o;
}

RateLimitOptions RateLimitOptions::ResetMailsPerAccount() {
  RateLimitOptions o;
  o.capacity = 3;
  o.refill_per_second = 1.0 / 600.0;
  return o;
}

RateLimitOptions RateLimitOptions::LoginPerAccount() {
  RateLimitOptions o;
  o.capacity = 10;
  o.refill_per_second = 1.0 / 60.0;
  return o;
}

TokenBucketLimiter::TokenBucketLimiter(RateLimitOptions options)
    : options_(options) {
  WEFT_CHECK_MSG(options_.capacity >= 1, "rate limit capacity must be >= 1");
  WEFT_CHECK_MSG(options_.refill_per_second > 0,
                 "rate limit refill must be > 0");
  WEFT_CHECK_MSG(options_.max_keys >= 1, "rate limit max_keys must be >= 1");
}

double TokenBucketLimiter::TokensAt(const Bucket& b, TimePoint now) const {
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed <= 0) return b.tokens;  // time went backwards: no refill
  return std::min(options_.capacity,
                  b.tokens + elapsed * options_.refill_per_second);
}

void TokenBucketLimiter::EvictOldest(TimePoint now, bool only_if_full) {
  if (lru_.empty()) return;
  auto it = buckets_.find(lru_.back());
  WEFT_CHECK(it != buckets_.end());
  const bool full = TokensAt(it->second, now) >= options_.capacity - kEpsilon;
  if (only_if_full && !full) return;
  if (full) {
    ++stats_.evicted_full;
  } else {
    ++stats_.evicted_partial;
  }
  buckets_.erase(it);
  lru_.pop_back();
}

RateLimitDecision TokenBucketLimiter::Take(std::string_view key, TimePoint now,
                                           double cost) {
  WEFT_CHECK_MSG(cost > 0 && cost <= options_.capacity,
                 "rate limit cost out of range");
  std::lock_guard<std::mutex> lock(mu_);
  // Opportunistic cleaning: the least recently used bucket goes if full.
  EvictOldest(now, /*only_if_full=*/true);

  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    while (buckets_.size() >= options_.max_keys) {
      EvictOldest(now, /*only_if_full=*/false);
    }
    lru_.emplace_front(key);
    it = buckets_
             .emplace(std::string(key),
                      Bucket{options_.capacity, now, lru_.begin()})
             .first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Bucket& b = it->second;
  double tokens = TokensAt(b, now);
  b.updated = std::max(b.updated, now);

  RateLimitDecision d;
  d.limit = static_cast<std::int64_t>(options_.capacity);
  if (tokens + kEpsilon >= cost) {
    d.allowed = true;
    tokens = std::max(0.0, tokens - cost);
    ++stats_.allowed;
  } else {
    d.allowed = false;
    d.retry_after_seconds = std::max<std::int64_t>(
        1, CeilSeconds((cost - tokens) / options_.refill_per_second));
    ++stats_.refused;
  }
  b.tokens = tokens;
  d.remaining = static_cast<std::int64_t>(std::floor(tokens + kEpsilon));
  d.reset_seconds =
      CeilSeconds((options_.capacity - tokens) / options_.refill_per_second);
  return d;
}

void TokenBucketLimiter::Refund(std::string_view key, TimePoint now,
                                double cost) {
  WEFT_CHECK_MSG(cost > 0 && cost <= options_.capacity,
                 "rate limit cost out of range");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) return;
  Bucket& b = it->second;
  b.tokens = std::min(options_.capacity, TokensAt(b, now) + cost);
  b.updated = std::max(b.updated, now);
}

std::size_t TokenBucketLimiter::Sweep(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t dropped = 0;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (TokensAt(it->second, now) >= options_.capacity - kEpsilon) {
      lru_.erase(it->second.lru);
      it = buckets_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  stats_.evicted_full += dropped;
  return dropped;
}

std::size_t TokenBucketLimiter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

TokenBucketLimiter::Stats TokenBucketLimiter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace weft::auth
