#include "auth/refresh_seal.h"

#include <gtest/gtest.h>

#include <string>

namespace weft::auth {
namespace {

TEST(RefreshTokenSealTest, ASealIsValidForItsFamilyAndTokenOnly) {
  RefreshTokenSeal seal("server secret");
  const std::string s = seal.Seal("fam1", "rt_token");
  EXPECT_EQ(s.size(), RefreshTokenSeal::kSealChars);
  EXPECT_TRUE(seal.Valid("fam1", "rt_token", s));
  EXPECT_FALSE(seal.Valid("fam2", "rt_token", s));
  EXPECT_FALSE(seal.Valid("fam1", "rt_tokeN", s));
  // The boundary between family and token is sealed too.
  EXPECT_FALSE(seal.Valid("fam1r", "t_token", s));
  std::string flipped = s;
  flipped[3] = flipped[3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(seal.Valid("fam1", "rt_token", flipped));
  EXPECT_FALSE(seal.Valid("fam1", "rt_token", s.substr(1)));
  EXPECT_FALSE(seal.Valid("fam1", "rt_token", ""));
}

TEST(RefreshTokenSealTest, AnotherKeySealsDifferently) {
  RefreshTokenSeal a("secret a"), b("secret b");
  EXPECT_NE(a.Seal("f", "t"), b.Seal("f", "t"));
  EXPECT_FALSE(b.Valid("f", "t", a.Seal("f", "t")));
  EXPECT_EQ(a.Seal("f", "t"), RefreshTokenSeal("secret a").Seal("f", "t"));
}

}  // namespace
}  // namespace weft::auth
