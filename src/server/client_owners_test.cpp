#include "server/client_owners.h"

#include <gtest/gtest.h>

#include <string>

namespace weft::server {
namespace {

TEST(ClientOwnersTest, AClientIdBelongsToItsFirstUser) {
  ClientOwners owners;
  EXPECT_TRUE(owners.MayWrite(7, "alice")) << "no owner yet";
  owners.Add(7, "alice");
  owners.Add(7, "mallory");  // too late: 7 is alice's
  EXPECT_TRUE(owners.MayWrite(7, "alice"));
  EXPECT_FALSE(owners.MayWrite(7, "mallory"));
  EXPECT_FALSE(owners.MayWrite(7, ""));
  EXPECT_TRUE(owners.MayWrite(8, "mallory"));
  EXPECT_EQ(owners.size(), 1u);
}

TEST(ClientOwnersTest, ManyClientIdsOfFewUsersKeepTheirOwners) {
  // Enough distinct users that the table of users grows several times
  // (short ids, kept inside the string objects, must not move).
  ClientOwners owners;
  for (std::uint64_t c = 0; c < 5000; ++c) {
    owners.Add(c, "u" + std::to_string(c % 300));
  }
  for (std::uint64_t c = 0; c < 5000; ++c) {
    ASSERT_TRUE(owners.MayWrite(c, "u" + std::to_string(c % 300))) << c;
    ASSERT_FALSE(owners.MayWrite(c, "u" + std::to_string((c + 1) % 300))) << c;
  }
  EXPECT_EQ(owners.size(), 5000u);
}

}  // namespace
}  // namespace weft::server
