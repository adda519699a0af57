#include "auth/role.h"

#include <gtest/gtest.h>

namespace weft::auth {
namespace {

constexpr Role kAll[] = {Role::kViewer, Role::kEditor, Role::kOwner};

TEST(RoleTest, NamesAreStable) {
  EXPECT_EQ(RoleName(Role::kViewer), "viewer");
  EXPECT_EQ(RoleName(Role::kEditor), "editor");
  EXPECT_EQ(RoleName(Role::kOwner), "owner");
}

TEST(RoleTest, ParseIsInverseOfName) {
  for (Role role : kAll) EXPECT_EQ(ParseRole(RoleName(role)), role);
}

TEST(RoleTest, ParseRejectsEverythingElse) {
  for (std::string_view text :
       {"", "Owner", "OWNER", " owner", "owner ", "admin", "view", "editors"}) {
    EXPECT_FALSE(ParseRole(text).has_value()) << text;
  }
}

TEST(RoleTest, FullMatrix) {
  // have \ need     viewer editor owner
  const bool expected[3][3] = {
      {true, false, false},  // viewer
      {true, true, false},   // editor
      {true, true, true},    // owner
  };
  for (int h = 0; h < 3; ++h) {
    for (int n = 0; n < 3; ++n) {
      EXPECT_EQ(Allows(kAll[h], kAll[n]), expected[h][n])
          << RoleName(kAll[h]) << " needs " << RoleName(kAll[n]);
    }
  }
}

}  // namespace
}  // namespace weft::auth
