#include "auth/password_hasher.h"

#include <gtest/gtest.h>

#include <string>

namespace weft::auth {
namespace {

PasswordHasher FastHasher() {
  auto hasher = PasswordHasher::Create(PasswordHashOptions::MinimumForTests());
  EXPECT_TRUE(hasher.ok()) << hasher.status().ToString();
  return std::move(hasher).value();
}

TEST(PasswordHasherTest, HashIsArgon2idWithConfiguredCost) {
  PasswordHasher hasher = FastHasher();
  auto hash = hasher.Hash("correct horse battery");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0u) << *hash;
  EXPECT_EQ(hash->find("correct"), std::string::npos);
}

TEST(PasswordHasherTest, VerifyAcceptsOnlyTheRightPassword) {
  PasswordHasher hasher = FastHasher();
  auto hash = hasher.Hash("correct horse battery");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hasher.Verify("correct horse battery", *hash).value(),
            PasswordMatch::kMatch);
  EXPECT_EQ(hasher.Verify("correct horse batterY", *hash).value(),
            PasswordMatch::kMismatch);
  EXPECT_EQ(hasher.Verify("", *hash).value(), PasswordMatch::kMismatch);
  EXPECT_EQ(hasher.Verify("correct horse battery ", *hash).value(),
            PasswordMatch::kMismatch);
}

TEST(PasswordHasherTest, EmbeddedNulIsPartOfThePassword) {
  PasswordHasher hasher = FastHasher();
  std::string with_nul("abc\0def", 7);
  auto hash = hasher.Hash(with_nul);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hasher.Verify(with_nul, *hash).value(), PasswordMatch::kMatch);
  EXPECT_EQ(hasher.Verify("abc", *hash).value(), PasswordMatch::kMismatch);
}

TEST(PasswordHasherTest, SaltsDiffer) {
  PasswordHasher hasher = FastHasher();
  auto a = hasher.Hash("same password here");
  auto b = hasher.Hash("same password here");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(PasswordHasherTest, MalformedStoredHashIsCorruption) {
  PasswordHasher hasher = FastHasher();
  for (std::string_view bad :
       {"", "plaintext", "$argon2i$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
        "$2b$10$abcdefghijklmnopqrstuv"}) {
    auto r = hasher.Verify("whatever password", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
  // Right prefix, garbage body: cannot match, but is not a crash either.
  auto r = hasher.Verify("whatever password", "$argon2id$garbage");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, PasswordMatch::kMismatch);
}

TEST(PasswordHasherTest, OverlongPasswordRefusedAndNeverMatches) {
  PasswordHasher hasher = FastHasher();
  std::string max(kMaxPasswordBytes, 'x');
  EXPECT_TRUE(hasher.Hash(max).ok());
  auto r = hasher.Hash(max + "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  auto hash = hasher.Hash("short password");
  EXPECT_EQ(hasher.Verify(max + "x", *hash).value(), PasswordMatch::kMismatch);
}

TEST(PasswordHasherTest, CostChangeAsksForRehash) {
  PasswordHasher cheap = FastHasher();
  PasswordHashOptions stronger = PasswordHashOptions::MinimumForTests();
  stronger.ops_limit += 1;
  auto strong = PasswordHasher::Create(stronger);
  ASSERT_TRUE(strong.ok());
  auto old_hash = cheap.Hash("a password to keep");
  ASSERT_TRUE(old_hash.ok());
  EXPECT_EQ(strong->Verify("a password to keep", *old_hash).value(),
            PasswordMatch::kMatchNeedsRehash);
  EXPECT_EQ(strong->Verify("not the password", *old_hash).value(),
            PasswordMatch::kMismatch);
  auto new_hash = strong->Hash("a password to keep");
  EXPECT_EQ(strong->Verify("a password to keep", *new_hash).value(),
            PasswordMatch::kMatch);
}

TEST(PasswordHasherTest, RejectsOutOfRangeOptions) {
  PasswordHashOptions options = PasswordHashOptions::MinimumForTests();
  options.ops_limit = 0;
  EXPECT_EQ(PasswordHasher::Create(options).status().code(),
            StatusCode::kInvalidArgument);
  options = PasswordHashOptions::MinimumForTests();
  options.mem_limit = 1024;
  EXPECT_EQ(PasswordHasher::Create(options).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PasswordHasherTest, DefaultsAreInteractiveArgon2id) {
  PasswordHashOptions defaults;
  EXPECT_EQ(defaults.ops_limit, 2u);
  EXPECT_EQ(defaults.mem_limit, std::size_t{64} << 20);
}

TEST(PasswordHasherTest, DummyVerifyNeverMatches) {
  PasswordHasher hasher = FastHasher();
  EXPECT_EQ(hasher.VerifyDummy(""), PasswordMatch::kMismatch);
  EXPECT_EQ(hasher.VerifyDummy("any password at all"),
            PasswordMatch::kMismatch);
}

}  // namespace
}  // namespace weft::auth
