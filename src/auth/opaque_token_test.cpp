#include "auth/opaque_token.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <string>

#include "auth/base64url.h"

namespace weft::auth {
namespace {

constexpr TokenPurpose kAllPurposes[] = {TokenPurpose::kRefresh,
                                         TokenPurpose::kInvitation,
                                         TokenPurpose::kPasswordReset};

TEST(OpaqueTokenTest, ShapeIsPrefixAnd256RandomBits) {
  for (TokenPurpose purpose : kAllPurposes) {
    IssuedToken t = IssueOpaqueToken(purpose);
    ASSERT_EQ(t.token.size(), 47u);
    EXPECT_EQ(t.token.substr(0, 4), TokenPrefix(purpose));
    auto raw = Base64UrlDecode(t.token.substr(4));
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(raw->size(), 32u);
    EXPECT_EQ(t.hash.size(), 64u);
    EXPECT_EQ(t.hash.find_first_not_of("0123456789abcdef"), std::string::npos);
  }
  EXPECT_EQ(TokenPrefix(TokenPurpose::kRefresh), "wrt_");
  EXPECT_EQ(TokenPrefix(TokenPurpose::kInvitation), "win_");
  EXPECT_EQ(TokenPrefix(TokenPurpose::kPasswordReset), "wpr_");
}

TEST(OpaqueTokenTest, HashIsBlake2b256OfTheToken) {
  // Known answer: BLAKE2b-256("wrt_" + 43 'A'), computed independently with
  // Python's hashlib.blake2b(digest_size=32).
  std::string token = "wrt_" + std::string(43, 'A');
  auto hash = HashOpaqueToken(TokenPurpose::kRefresh, token);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(*hash,
            "428a3e54696a3d35abe0e75145e5be515f4825ed33b756610dfe9b3cd2914672");
}

TEST(OpaqueTokenTest, PresentedTokenHashesToTheStoredHash) {
  for (TokenPurpose purpose : kAllPurposes) {
    IssuedToken t = IssueOpaqueToken(purpose);
    auto hash = HashOpaqueToken(purpose, t.token);
    ASSERT_TRUE(hash.ok());
    EXPECT_EQ(*hash, t.hash);
    EXPECT_EQ(t.hash.find(t.token), std::string::npos);
  }
}

TEST(OpaqueTokenTest, TokensAreUnique) {
  std::set<std::string> tokens;
  std::set<std::string> hashes;
  for (int i = 0; i < 1000; ++i) {
    IssuedToken t = IssueOpaqueToken(TokenPurpose::kRefresh);
    tokens.insert(t.token);
    hashes.insert(t.hash);
  }
  EXPECT_EQ(tokens.size(), 1000u);
  EXPECT_EQ(hashes.size(), 1000u);
}

TEST(OpaqueTokenTest, WrongPurposeOrShapeIsRefused) {
  IssuedToken refresh = IssueOpaqueToken(TokenPurpose::kRefresh);
  EXPECT_EQ(
      HashOpaqueToken(TokenPurpose::kInvitation, refresh.token).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_FALSE(
      HashOpaqueToken(TokenPurpose::kPasswordReset, refresh.token).ok());
  for (const std::string& bad :
       {std::string(""), std::string("wrt_"), refresh.token + "A",
        refresh.token.substr(0, 46), refresh.token.substr(4),
        "wrt_" + std::string(42, 'A') + "=", "wrt_" + std::string(43, '+'),
        "WRT_" + refresh.token.substr(4)}) {
    EXPECT_FALSE(HashOpaqueToken(TokenPurpose::kRefresh, bad).ok()) << bad;
  }
}

TEST(OpaqueTokenTest, RandomUrlSafeStringLength) {
  EXPECT_EQ(RandomUrlSafeString(16).size(), 22u);
  EXPECT_EQ(RandomUrlSafeString(0), "");
  EXPECT_NE(RandomUrlSafeString(16), RandomUrlSafeString(16));
}

RC_GTEST_PROP(OpaqueTokenTest, AnyAlteredTokenHashesDifferently, ()) {
  IssuedToken t = IssueOpaqueToken(TokenPurpose::kRefresh);
  std::string altered = t.token;
  const auto pos = *rc::gen::inRange<std::size_t>(0, t.token.size());
  altered[pos] = *rc::gen::elementOf(std::string(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"));
  RC_PRE(altered != t.token);
  auto hash = HashOpaqueToken(TokenPurpose::kRefresh, altered);
  // (RC_ASSERT's expression capture does not short-circuit ||.)
  const bool refused_or_different = !hash.ok() || *hash != t.hash;
  RC_ASSERT(refused_or_different);
}

}  // namespace
}  // namespace weft::auth
