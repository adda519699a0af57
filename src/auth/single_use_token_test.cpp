#include "auth/single_use_token.h"

#include <gtest/gtest.h>

namespace weft::auth {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

const TimePoint kNow = FromUnixSeconds(1'700'000'000);

TEST(SingleUseTokenTest, DefaultLifetimes) {
  EXPECT_EQ(kInvitationLifetime, hours(24 * 7));
  EXPECT_EQ(kPasswordResetLifetime, hours(1));
}

TEST(SingleUseTokenTest, AcceptsLiveUnusedToken) {
  SingleUseTokenRecord r{false, false, kNow + kPasswordResetLifetime};
  EXPECT_EQ(DecideSingleUse(r, kNow), SingleUseOutcome::kAccept);
  EXPECT_EQ(DecideSingleUse(r, r.expires_at - seconds(1)),
            SingleUseOutcome::kAccept);
  EXPECT_TRUE(SingleUseStatus(SingleUseOutcome::kAccept, "invitation").ok());
}

TEST(SingleUseTokenTest, RefusesUnknownUsedRevokedExpired) {
  EXPECT_EQ(DecideSingleUse(std::nullopt, kNow), SingleUseOutcome::kUnknown);
  SingleUseTokenRecord r{false, false, kNow + hours(1)};
  EXPECT_EQ(DecideSingleUse(r, r.expires_at), SingleUseOutcome::kExpired);
  r.used = true;
  EXPECT_EQ(DecideSingleUse(r, kNow), SingleUseOutcome::kAlreadyUsed);
  r.revoked = true;
  EXPECT_EQ(DecideSingleUse(r, kNow), SingleUseOutcome::kRevoked);
}

TEST(SingleUseTokenTest, Statuses) {
  Status used = SingleUseStatus(SingleUseOutcome::kAlreadyUsed, "invitation");
  EXPECT_EQ(used.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(used.message(), "invitation has already been used");
  EXPECT_EQ(SingleUseStatus(SingleUseOutcome::kExpired, "reset link").message(),
            "reset link has expired");
  EXPECT_EQ(SingleUseStatus(SingleUseOutcome::kRevoked, "invitation").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(SingleUseStatus(SingleUseOutcome::kUnknown, "invitation").code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace weft::auth
