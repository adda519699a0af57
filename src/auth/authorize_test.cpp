#include "auth/authorize.h"

#include <gtest/gtest.h>

namespace weft::auth {
namespace {

const std::optional<Principal> kAnonymous;
const std::optional<Principal> kAlice = Principal{"u1", "fam1"};

TEST(AuthorizeTest, AnyoneAllowsAnonymous) {
  EXPECT_TRUE(Authorize(RouteRequirement::Anyone(), kAnonymous, {}).ok());
  EXPECT_TRUE(Authorize(RouteRequirement::Anyone(), kAlice, {}).ok());
  EXPECT_FALSE(RouteRequirement::Anyone().NeedsMembership());
}

TEST(AuthorizeTest, SignedInNeedsPrincipal) {
  EXPECT_EQ(Authorize(RouteRequirement::SignedIn(), kAnonymous, {}).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(
      Authorize(RouteRequirement::SignedIn(), Principal{"", ""}, {}).code(),
      StatusCode::kUnauthenticated);
  EXPECT_TRUE(Authorize(RouteRequirement::SignedIn(), kAlice, {}).ok());
  EXPECT_FALSE(RouteRequirement::SignedIn().NeedsMembership());
}

TEST(AuthorizeTest, AnonymousOnMemberRouteIsUnauthenticated) {
  // Even with a (bogus) membership, no principal means 401.
  EXPECT_EQ(Authorize(RouteRequirement::Member(Role::kViewer), kAnonymous,
                      Role::kOwner)
                .code(),
            StatusCode::kUnauthenticated);
}

TEST(AuthorizeTest, NonMemberGetsNotFoundNotForbidden) {
  for (Role need : {Role::kViewer, Role::kEditor, Role::kOwner}) {
    auto requirement = RouteRequirement::Member(need);
    EXPECT_TRUE(requirement.NeedsMembership());
    EXPECT_EQ(Authorize(requirement, kAlice, std::nullopt).code(),
              StatusCode::kNotFound);
  }
}

TEST(AuthorizeTest, RoleMatrix) {
  const Role roles[] = {Role::kViewer, Role::kEditor, Role::kOwner};
  for (Role need : roles) {
    for (Role have : roles) {
      Status s = Authorize(RouteRequirement::Member(need), kAlice, have);
      if (Allows(have, need)) {
        EXPECT_TRUE(s.ok()) << RoleName(have) << " on " << RoleName(need);
      } else {
        EXPECT_EQ(s.code(), StatusCode::kPermissionDenied)
            << RoleName(have) << " on " << RoleName(need);
      }
    }
  }
  // Spot checks independent of Allows().
  EXPECT_EQ(
      Authorize(RouteRequirement::Member(Role::kEditor), kAlice, Role::kViewer)
          .code(),
      StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      Authorize(RouteRequirement::Member(Role::kEditor), kAlice, Role::kOwner)
          .ok());
}

}  // namespace
}  // namespace weft::auth
