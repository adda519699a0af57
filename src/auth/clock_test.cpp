#include "auth/clock.h"

#include <gtest/gtest.h>

namespace weft::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ClockTest, UnixSecondsRoundTrip) {
  EXPECT_EQ(ToUnixSeconds(FromUnixSeconds(1'700'000'123)), 1'700'000'123);
  EXPECT_EQ(ToUnixSeconds(FromUnixSeconds(0)), 0);
}

TEST(ClockTest, UnixSecondsFloorsFractions) {
  EXPECT_EQ(ToUnixSeconds(FromUnixSeconds(10) + milliseconds(999)), 10);
  EXPECT_EQ(ToUnixSeconds(FromUnixSeconds(0) - milliseconds(1)), -1);
}

TEST(ClockTest, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), FromUnixSeconds(100));
  clock.Advance(seconds(5));
  EXPECT_EQ(clock.Now(), FromUnixSeconds(105));
  clock.Advance(milliseconds(1500));
  EXPECT_EQ(clock.Now(), FromUnixSeconds(106) + milliseconds(500));
  clock.Set(FromUnixSeconds(7));
  EXPECT_EQ(clock.Now(), FromUnixSeconds(7));
}

TEST(ClockTest, SystemClockIsNearStdClock) {
  SystemClock clock;
  auto diff = clock.Now() - std::chrono::system_clock::now();
  EXPECT_LT(std::chrono::abs(diff), seconds(5));
}

}  // namespace
}  // namespace weft::auth
