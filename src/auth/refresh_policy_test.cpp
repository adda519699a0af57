#include "auth/refresh_policy.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <string>

#include "auth/opaque_token.h"

namespace weft::auth {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

const TimePoint kLogin = FromUnixSeconds(1'700'000'000);

RefreshTokenRecord Fresh(const RefreshPolicy& policy, TimePoint start) {
  auto family = policy.StartFamily(start);
  return {"fam",
          "user",
          false,
          false,
          family.token_expires_at,
          family.family_expires_at};
}

TEST(RefreshPolicyTest, Defaults) {
  RefreshPolicyOptions options;
  EXPECT_EQ(options.token_lifetime, hours(24 * 30));
  EXPECT_EQ(options.session_lifetime, hours(24 * 90));
  RefreshPolicy policy;
  auto family = policy.StartFamily(kLogin);
  EXPECT_EQ(family.token_expires_at, kLogin + hours(24 * 30));
  EXPECT_EQ(family.family_expires_at, kLogin + hours(24 * 90));
}

TEST(RefreshPolicyTest, FreshTokenRotates) {
  RefreshPolicy policy;
  RefreshTokenRecord r = Fresh(policy, kLogin);
  RefreshDecision d = policy.Decide(r, kLogin + hours(1));
  EXPECT_EQ(d.outcome, RefreshOutcome::kRotate);
  EXPECT_TRUE(d.Accepted());
  EXPECT_FALSE(d.RevokeFamily());
  EXPECT_TRUE(d.ToStatus().ok());
  EXPECT_EQ(d.next_expires_at, kLogin + hours(1) + hours(24 * 30));
}

TEST(RefreshPolicyTest, SuccessorNeverOutlivesTheFamily) {
  RefreshPolicy policy;
  RefreshTokenRecord r = Fresh(policy, kLogin);
  r.expires_at = kLogin + hours(24 * 89) + hours(12);
  RefreshDecision d = policy.Decide(r, kLogin + hours(24 * 89));
  ASSERT_TRUE(d.Accepted());
  EXPECT_EQ(d.next_expires_at, r.family_expires_at);
}

TEST(RefreshPolicyTest, UnknownTokenIsRefused) {
  RefreshPolicy policy;
  RefreshDecision d = policy.Decide(std::nullopt, kLogin);
  EXPECT_EQ(d.outcome, RefreshOutcome::kUnknown);
  EXPECT_EQ(d.ToStatus().code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(d.RevokeFamily());
}

TEST(RefreshPolicyTest, UsedTokenIsReuseAndRevokesFamily) {
  RefreshPolicy policy;
  RefreshTokenRecord r = Fresh(policy, kLogin);
  r.used = true;
  RefreshDecision d = policy.Decide(r, kLogin + seconds(1));
  EXPECT_EQ(d.outcome, RefreshOutcome::kReuseDetected);
  EXPECT_TRUE(d.RevokeFamily());
  EXPECT_EQ(d.ToStatus().code(), StatusCode::kUnauthenticated);
  // Reuse wins over expiry: an old stolen token still trips the alarm.
  EXPECT_EQ(policy.Decide(r, kLogin + hours(24 * 365)).outcome,
            RefreshOutcome::kReuseDetected);
}

TEST(RefreshPolicyTest, RevokedFamilyIsRefusedWithoutNewAlarm) {
  RefreshPolicy policy;
  RefreshTokenRecord r = Fresh(policy, kLogin);
  r.family_revoked = true;
  EXPECT_EQ(policy.Decide(r, kLogin).outcome, RefreshOutcome::kRevoked);
  r.used = true;
  RefreshDecision d = policy.Decide(r, kLogin);
  EXPECT_EQ(d.outcome, RefreshOutcome::kRevoked);
  EXPECT_FALSE(d.RevokeFamily());
}

TEST(RefreshPolicyTest, ExpiryOfTokenAndOfFamily) {
  RefreshPolicy policy;
  RefreshTokenRecord r = Fresh(policy, kLogin);
  EXPECT_TRUE(policy.Decide(r, r.expires_at - seconds(1)).Accepted());
  EXPECT_EQ(policy.Decide(r, r.expires_at).outcome, RefreshOutcome::kExpired);
  r.expires_at = kLogin + hours(24 * 200);  // a buggy store row
  EXPECT_EQ(policy.Decide(r, r.family_expires_at).outcome,
            RefreshOutcome::kExpired);
}

// A model of the Store around the policy: a legitimate client and a thief
// who copied one token replay refreshes in random order. Invariants: the
// thief never gets a token after the client has refreshed past the stolen
// one without the family being revoked, and once revoked nothing rotates.
RC_GTEST_PROP(RefreshPolicyTest, ReuseAlwaysEndsTheFamily, ()) {
  RefreshPolicy policy;
  std::map<std::string, RefreshTokenRecord> store;  // hash -> record
  bool family_revoked = false;
  auto present = [&](const std::string& token,
                     TimePoint now) -> std::optional<std::string> {
    std::string hash = HashOpaqueToken(TokenPurpose::kRefresh, token).value();
    auto it = store.find(hash);
    std::optional<RefreshTokenRecord> record;
    if (it != store.end()) {
      record = it->second;
      record->family_revoked = family_revoked;
    }
    RefreshDecision d = policy.Decide(record, now);
    if (d.RevokeFamily()) family_revoked = true;
    if (!d.Accepted()) return std::nullopt;
    it->second.used = true;
    IssuedToken next = IssueOpaqueToken(TokenPurpose::kRefresh);
    store[next.hash] = {"fam",
                        "user",
                        false,
                        false,
                        d.next_expires_at,
                        record->family_expires_at};
    return next.token;
  };

  IssuedToken first = IssueOpaqueToken(TokenPurpose::kRefresh);
  store[first.hash] = Fresh(policy, kLogin);
  std::string client = first.token;
  std::string thief = first.token;
  TimePoint now = kLogin;
  const int steps = *rc::gen::inRange(1, 30);
  for (int i = 0; i < steps; ++i) {
    now += seconds(*rc::gen::inRange(1, 3600));
    const bool thief_moves = *rc::gen::arbitrary<bool>();
    std::string& holder = thief_moves ? thief : client;
    const bool was_shared = client == thief;
    auto next = present(holder, now);
    if (next) {
      RC_ASSERT(!family_revoked);
      holder = *next;
    } else if (was_shared && !family_revoked) {
      RC_FAIL("a shared, live token was refused without revocation");
    }
    if (family_revoked) {
      // Neither party can ever refresh again.
      RC_ASSERT(!present(client, now).has_value());
      RC_ASSERT(!present(thief, now).has_value());
    }
  }
  // If both parties have refreshed at least once, someone must have reused.
  if (client != first.token && thief != first.token) {
    RC_ASSERT(family_revoked);
  }
}

}  // namespace
}  // namespace weft::auth
