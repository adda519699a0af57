#include "auth/rate_limiter.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

namespace weft::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kT0 = FromUnixSeconds(1'700'000'000);

RateLimitOptions Small(double capacity, double rate, std::size_t keys = 100) {
  RateLimitOptions o;
  o.capacity = capacity;
  o.refill_per_second = rate;
  o.max_keys = keys;
  return o;
}

TEST(RateLimiterTest, Defaults) {
  RateLimitOptions auth = RateLimitOptions::AuthPerIp();
  EXPECT_EQ(auth.capacity, 10);
  EXPECT_DOUBLE_EQ(auth.refill_per_second * 60, 10);
  RateLimitOptions api = RateLimitOptions::ApiPerUser();
  EXPECT_EQ(api.capacity, 60);
  EXPECT_EQ(api.refill_per_second, 10);
  EXPECT_EQ(api.max_keys, 100'000u);
}

TEST(RateLimiterTest, BurstThenRefuse) {
  TokenBucketLimiter limiter(Small(3, 1));
  for (int i = 0; i < 3; ++i) {
    RateLimitDecision d = limiter.Take("ip", kT0);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 3);
    EXPECT_EQ(d.remaining, 2 - i);
    EXPECT_EQ(d.retry_after_seconds, 0);
    EXPECT_EQ(d.reset_seconds, i + 1);
  }
  RateLimitDecision d = limiter.Take("ip", kT0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.retry_after_seconds, 1);
  EXPECT_EQ(d.reset_seconds, 3);
  EXPECT_EQ(limiter.stats().allowed, 3u);
  EXPECT_EQ(limiter.stats().refused, 1u);
}

TEST(RateLimiterTest, RefillsContinuously) {
  TokenBucketLimiter limiter(Small(2, 0.5));  // one token per 2 s
  EXPECT_TRUE(limiter.Take("k", kT0).allowed);
  EXPECT_TRUE(limiter.Take("k", kT0).allowed);
  RateLimitDecision refused = limiter.Take("k", kT0 + seconds(1));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 1);  // 0.5 token missing
  EXPECT_TRUE(limiter.Take("k", kT0 + seconds(2)).allowed);
  EXPECT_FALSE(limiter.Take("k", kT0 + seconds(2)).allowed);
  // Long idle refills to capacity, never beyond.
  RateLimitDecision d = limiter.Take("k", kT0 + seconds(3600));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 1);
}

TEST(RateLimiterTest, RefusalTakesNothing) {
  TokenBucketLimiter limiter(Small(5, 1));
  EXPECT_TRUE(limiter.Take("k", kT0, 4).allowed);
  RateLimitDecision d = limiter.Take("k", kT0, 3);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 1);
  EXPECT_EQ(d.retry_after_seconds, 2);
  EXPECT_TRUE(limiter.Take("k", kT0, 1).allowed);
}

TEST(RateLimiterTest, RefundGivesBackUpToCapacity) {
  TokenBucketLimiter limiter(Small(2, 0.001));
  EXPECT_TRUE(limiter.Take("k", kT0).allowed);
  EXPECT_TRUE(limiter.Take("k", kT0).allowed);
  EXPECT_FALSE(limiter.Take("k", kT0).allowed);
  limiter.Refund("k", kT0);
  EXPECT_TRUE(limiter.Take("k", kT0).allowed);
  EXPECT_FALSE(limiter.Take("k", kT0).allowed);
  // Never past capacity, and a key without a bucket gets none.
  limiter.Refund("k", kT0, 2);
  limiter.Refund("k", kT0, 2);
  EXPECT_EQ(limiter.Take("k", kT0).remaining, 1);
  limiter.Refund("other", kT0);
  EXPECT_EQ(limiter.size(), 1u);
}

TEST(RateLimiterTest, KeysAreIndependent) {
  TokenBucketLimiter limiter(Small(1, 1));
  EXPECT_TRUE(limiter.Take("a", kT0).allowed);
  EXPECT_FALSE(limiter.Take("a", kT0).allowed);
  EXPECT_TRUE(limiter.Take("b", kT0).allowed);
  EXPECT_EQ(limiter.size(), 2u);
}

TEST(RateLimiterTest, ClockGoingBackwardsDoesNotRefill) {
  TokenBucketLimiter limiter(Small(1, 1));
  EXPECT_TRUE(limiter.Take("k", kT0).allowed);
  EXPECT_FALSE(limiter.Take("k", kT0 - seconds(100)).allowed);
  EXPECT_FALSE(limiter.Take("k", kT0 + milliseconds(500)).allowed);
  EXPECT_TRUE(limiter.Take("k", kT0 + seconds(1)).allowed);
}

TEST(RateLimiterTest, MemoryIsBoundedByMaxKeys) {
  TokenBucketLimiter limiter(Small(5, 1, /*keys=*/3));
  for (int i = 0; i < 100; ++i) {
    limiter.Take("key" + std::to_string(i), kT0);
    EXPECT_LE(limiter.size(), 3u);
  }
  EXPECT_EQ(limiter.stats().evicted_partial, 97u);
}

TEST(RateLimiterTest, EvictsLeastRecentlyUsed) {
  TokenBucketLimiter limiter(Small(1, 0.001, /*keys=*/2));
  limiter.Take("a", kT0);
  limiter.Take("b", kT0);
  limiter.Take("a", kT0);  // refused, but "a" is now most recent
  limiter.Take("c", kT0);  // evicts "b"
  EXPECT_FALSE(limiter.Take("a", kT0).allowed);  // "a" kept its state
  EXPECT_EQ(limiter.size(), 2u);
}

TEST(RateLimiterTest, IdleFullBucketsAreDroppedAsTrafficPasses) {
  TokenBucketLimiter limiter(Small(2, 1));
  limiter.Take("idle", kT0);
  limiter.Take("busy", kT0);
  // By kT0+5s "idle" is full again: the next call drops it (it is the
  // least recently used), losing nothing.
  limiter.Take("busy", kT0 + seconds(5));
  EXPECT_EQ(limiter.size(), 1u);
  EXPECT_EQ(limiter.stats().evicted_full, 1u);
  EXPECT_EQ(limiter.stats().evicted_partial, 0u);
}

TEST(RateLimiterTest, SweepDropsOnlyFullBuckets) {
  TokenBucketLimiter limiter(Small(10, 1));
  limiter.Take("small", kT0, 1);
  limiter.Take("large", kT0, 10);
  limiter.Take("other", kT0, 5);
  EXPECT_EQ(limiter.Sweep(kT0 + seconds(2)), 1u);  // "small" refilled
  EXPECT_EQ(limiter.size(), 2u);
  EXPECT_EQ(limiter.Sweep(kT0 + seconds(6)), 1u);   // "other"
  EXPECT_EQ(limiter.Sweep(kT0 + seconds(10)), 1u);  // "large"
  EXPECT_EQ(limiter.size(), 0u);
  // A swept key starts from a full bucket again.
  EXPECT_EQ(limiter.Take("large", kT0 + seconds(10)).remaining, 9);
}

TEST(RateLimiterTest, ConcurrentTakersNeverExceedCapacity) {
  TokenBucketLimiter limiter(Small(100, 0.001));
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (limiter.Take("shared", kT0).allowed) ++allowed;
        limiter.Take("own" + std::to_string(i), kT0);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 100);
}

RC_GTEST_PROP(RateLimiterTest, NeverAllowsMoreThanCapacityPlusRefill, ()) {
  const double capacity = *rc::gen::inRange(1, 20);
  const double rate = *rc::gen::inRange(1, 1000) / 100.0;  // 0.01..10 /s
  TokenBucketLimiter limiter(Small(capacity, rate, 4));
  const std::vector<std::string> keys = {"a", "b"};
  TimePoint now = kT0;
  double allowed_a = 0;
  const int steps = *rc::gen::inRange(1, 200);
  for (int i = 0; i < steps; ++i) {
    now += milliseconds(*rc::gen::inRange(0, 2000));
    const std::string& key = *rc::gen::elementOf(keys);
    const double cost = *rc::gen::inRange(1, static_cast<int>(capacity) + 1);
    RateLimitDecision d = limiter.Take(key, now, cost);
    RC_ASSERT(d.remaining >= 0);
    RC_ASSERT(d.remaining <= static_cast<std::int64_t>(capacity));
    RC_ASSERT(d.allowed == (d.retry_after_seconds == 0));
    if (key == "a" && d.allowed) allowed_a += cost;
    const double elapsed = std::chrono::duration<double>(now - kT0).count();
    RC_ASSERT(allowed_a <= capacity + rate * elapsed + 1e-6);
  }
}

}  // namespace
}  // namespace weft::auth
