#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace weft::auth {

// Wall-clock time as used by every piece of weft_auth. Logic never reads a
// clock itself: it takes a TimePoint argument, and whoever calls it reads a
// Clock (the system clock in weftd, a ManualClock in tests).
using TimePoint = std::chrono::system_clock::time_point;

// Whole seconds since the Unix epoch (floor), as JWT `iat`/`exp` use them.
std::int64_t ToUnixSeconds(TimePoint t);
TimePoint FromUnixSeconds(std::int64_t seconds);

// The source of "now". Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// std::chrono::system_clock.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// A clock that moves only when told to. Thread-safe (the time is atomic).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = FromUnixSeconds(1'700'000'000))
      : now_(start.time_since_epoch().count()) {}

  TimePoint Now() const override {
    return TimePoint(TimePoint::duration(now_.load()));
  }
  void Set(TimePoint t) { now_.store(t.time_since_epoch().count()); }
  void Advance(std::chrono::nanoseconds d) {
    now_.fetch_add(std::chrono::duration_cast<TimePoint::duration>(d).count());
  }

 private:
  std::atomic<TimePoint::rep> now_;
};

}  // namespace weft::auth
