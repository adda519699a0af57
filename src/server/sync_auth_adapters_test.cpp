#include "server/sync_auth_adapters.h"

#include <gtest/gtest.h>

#include "store/memory_store.h"

namespace weft::server {
namespace {

TEST(JwtSyncAuthenticatorTest, AcceptsOwnTokensAndRefusesOthers) {
  auto codec =
      auth::AccessTokenCodec::Create(auth::AccessTokenCodec::GenerateSecret());
  auto other =
      auth::AccessTokenCodec::Create(auth::AccessTokenCodec::GenerateSecret());
  ASSERT_TRUE(codec.ok() && other.ok());
  JwtSyncAuthenticator authn(*codec);
  auto now = std::chrono::system_clock::now();
  auto identity =
      authn.Authenticate(codec->Sign(codec->NewClaims("u1", "s1", 0, now)));
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  EXPECT_EQ(identity->user_id, "u1");
  EXPECT_GT(identity->expires_at, now + std::chrono::minutes(14));
  EXPECT_EQ(
      authn.Authenticate(other->Sign(other->NewClaims("u1", "s1", 0, now)))
          .status()
          .code(),
      StatusCode::kUnauthenticated);
  auto old = now - std::chrono::hours(2);
  EXPECT_EQ(
      authn.Authenticate(codec->Sign(codec->NewClaims("u1", "s1", 0, old)))
          .status()
          .code(),
      StatusCode::kUnauthenticated);
  EXPECT_FALSE(authn.Authenticate("not.a.token").ok());
}

TEST(MetadataDocumentAccessTest, RoleComesFromWorkspaceMembership) {
  auto store = store::NewMemoryStore();
  auto& md = store->metadata();
  for (const char* u : {"owner", "viewer", "stranger"}) {
    ASSERT_TRUE(md.CreateUser({u, std::string(u) + "@x.test", u, "h", 1}).ok());
  }
  ASSERT_TRUE(md.CreateWorkspace({"w1", "w1", "W", "owner", 1}).ok());
  ASSERT_TRUE(md.AddMember({"w1", "owner", store::Role::kOwner, 1}).ok());
  ASSERT_TRUE(md.AddMember({"w1", "viewer", store::Role::kViewer, 1}).ok());
  store::DocumentInfo doc;
  doc.id = "d1";
  doc.workspace_id = "w1";
  doc.title = "T";
  doc.created_by = "owner";
  ASSERT_TRUE(md.CreateDocument(doc).ok());

  MetadataDocumentAccess access(md);
  EXPECT_EQ(*access.RoleFor("owner", "d1"), proto::Role::kOwner);
  EXPECT_EQ(*access.RoleFor("viewer", "d1"), proto::Role::kViewer);
  EXPECT_EQ(access.RoleFor("stranger", "d1").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(access.RoleFor("owner", "nope").status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(md.SetMemberRole("w1", "viewer", store::Role::kEditor).ok());
  EXPECT_EQ(*access.RoleFor("viewer", "d1"), proto::Role::kEditor);
  ASSERT_TRUE(md.SoftDeleteDocument("d1", 5).ok());
  EXPECT_EQ(access.RoleFor("owner", "d1").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace weft::server
