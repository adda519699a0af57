#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/clock.h"

namespace weft::auth {

struct RateLimitOptions {
  // Largest burst: a new or long-idle key may make this many requests at
  // once. Must be >= 1. Default 60.
  double capacity = 60;
  // Tokens added per second, up to capacity. Must be > 0. Default 10.
  double refill_per_second = 10;
  // Most keys tracked at once. When a new key would exceed it, the least
  // recently used bucket is dropped (a full one loses nothing; a partly
  // drained one is forgiven). Must be >= 1. Default 100000 (a few MB).
  std::size_t max_keys = 100'000;

  // Per client IP on the auth routes (login, register, refresh, reset):
  // bursts of 10, then one every 6 seconds (10 per minute).
  static RateLimitOptions AuthPerIp();
  // Per user on every other authenticated route: bursts of 60, then 10/s.
  static RateLimitOptions ApiPerUser();
  // Failed sign-ins per account, from any number of IPs: bursts of 10,
  // then one a minute.
  static RateLimitOptions LoginPerAccount();
  // Invitations (each a mail) per user: bursts of 50, then 50 an hour.
  static RateLimitOptions InvitationsPerUser();
  // Password-reset mails per account, however many IPs ask: bursts of 3,
  // then one every 10 minutes.
  static RateLimitOptions ResetMailsPerAccount();
};

// The answer to one request, with what the HTTP layer needs for 429 and
// the X-RateLimit-* / Retry-After headers. All whole numbers.
struct RateLimitDecision {
  bool allowed = false;
  std::int64_t limit = 0;          // X-RateLimit-Limit: the capacity
  std::int64_t remaining = 0;      // X-RateLimit-Remaining: whole tokens left
  std::int64_t reset_seconds = 0;  // X-RateLimit-Reset: seconds until the
                                   // bucket is full again (rounded up)
  std::int64_t retry_after_seconds = 0;  // Retry-After when refused: seconds
                                         // until the request would pass
                                         // (>= 1); 0 when allowed
};

// Token buckets per key (an IP address, a user id, ...): each key has a
// bucket of `capacity` tokens refilled continuously at `refill_per_second`;
// a request takes `cost` tokens or is refused without taking any.
//
// Time comes in as an argument; if it goes backwards the bucket just does
// not refill. Memory is bounded by max_keys; buckets that have refilled to
// capacity are indistinguishable from absent ones and are dropped as
// requests pass (one check per call) and by Sweep().
//
// Thread-safe: one mutex guards all state; each call is O(1) amortised
// except Sweep(), which is O(keys).
class TokenBucketLimiter {
 public:
  // The options must satisfy their documented bounds (checked).
  explicit TokenBucketLimiter(RateLimitOptions options = {});

  TokenBucketLimiter(const TokenBucketLimiter&) = delete;
  TokenBucketLimiter& operator=(const TokenBucketLimiter&) = delete;

  // Takes `cost` tokens from `key`'s bucket if it has them. `cost` must be
  // in (0, capacity] (checked).
  RateLimitDecision Take(std::string_view key, TimePoint now, double cost = 1);

  // Gives back `cost` tokens taken from `key`'s bucket (a request that
  // turned out not to count, such as a sign-in that succeeded), up to
  // capacity. Nothing happens when the key has no bucket (it was full, or
  // was dropped). `cost` as for Take.
  void Refund(std::string_view key, TimePoint now, double cost = 1);

  // Drops every bucket that has refilled to capacity by `now`. Returns how
  // many were dropped. Call it from a periodic timer.
  std::size_t Sweep(TimePoint now);

  // Keys currently tracked.
  std::size_t size() const;

  struct Stats {
    std::uint64_t allowed = 0;
    std::uint64_t refused = 0;
    std::uint64_t evicted_full = 0;     // dropped losing nothing
    std::uint64_t evicted_partial = 0;  // dropped by max_keys while drained
  };
  Stats stats() const;

  const RateLimitOptions& options() const { return options_; }

 private:
  struct Bucket {
    double tokens;
    TimePoint updated;
    std::list<std::string>::iterator lru;  // position in lru_
  };

  // Tokens in `b` at `now`, capped at capacity (const: does not store).
  double TokensAt(const Bucket& b, TimePoint now) const;
  // Removes the bucket at the back of lru_ (caller holds mu_).
  void EvictOldest(TimePoint now, bool only_if_full);

  const RateLimitOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
  std::list<std::string> lru_;  // most recent first; guarded by mu_
  Stats stats_;                 // guarded by mu_
};

}  // namespace weft::auth
