#include "server/sync_auth_adapters.h"

#include <gtest/gtest.h>

#include "server/api_layer.h"
#include "store/memory_store.h"

namespace weft::server {
namespace {

TEST(JwtSyncAuthenticatorTest, AcceptsOwnTokensAndRefusesOthers) {
  auto codec =
      auth::AccessTokenCodec::Create(auth::AccessTokenCodec::GenerateSecret());
  auto other =
      auth::AccessTokenCodec::Create(auth::AccessTokenCodec::GenerateSecret());
  ASSERT_TRUE(codec.ok() && other.ok());
  auto store = store::NewMemoryStore();
  store::User user{"u1", "u1@x.test", "U", "hash-1", 1};
  ASSERT_TRUE(store->metadata().CreateUser(user).ok());
  std::int64_t ver = TokenVersion(user);
  store::RefreshTokenFamily family;
  family.id = "s1";
  family.user_id = "u1";
  family.token_hash = "h1";
  family.expires_ms = INT64_MAX;
  ASSERT_TRUE(store->metadata().CreateRefreshFamily(family).ok());
  JwtSyncAuthenticator authn(*codec, store->metadata());
  auto now = std::chrono::system_clock::now();
  auto token = [&](const auth::AccessTokenCodec& c, const char* sub,
                   std::chrono::system_clock::time_point at) {
    return c.Sign(c.NewClaims(sub, "s1", ver, at));
  };
  auto identity = authn.Authenticate(token(*codec, "u1", now));
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  EXPECT_EQ(identity->user_id, "u1");
  EXPECT_GT(identity->expires_at, now + std::chrono::minutes(14));
  auto code = [&](const std::string& t) {
    return authn.Authenticate(t).status().code();
  };
  EXPECT_EQ(code(token(*other, "u1", now)), StatusCode::kUnauthenticated);
  EXPECT_EQ(code(token(*codec, "u1", now - std::chrono::hours(2))),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(code("not.a.token"), StatusCode::kUnauthenticated);
  EXPECT_EQ(code(token(*codec, "ghost", now)), StatusCode::kUnauthenticated);
  // A password change retires tokens issued before it.
  ASSERT_TRUE(
      store->metadata()
          .SetPasswordHash("u1", store->metadata().GetUser("u1")->password_hash,
                           "hash-2", 5)
          .ok());
  EXPECT_EQ(code(token(*codec, "u1", now)), StatusCode::kUnauthenticated);
}

// Signing out (or a refresh token used twice) revokes the session's
// family: its access tokens stop opening sync sessions, and live ones fail
// their next check, before the tokens expire.
TEST(JwtSyncAuthenticatorTest, ASessionSignedOutEndsItsTokens) {
  auto codec =
      auth::AccessTokenCodec::Create(auth::AccessTokenCodec::GenerateSecret());
  ASSERT_TRUE(codec.ok());
  auto store = store::NewMemoryStore();
  store::User user{"u1", "u1@x.test", "U", "hash-1", 1};
  ASSERT_TRUE(store->metadata().CreateUser(user).ok());
  for (const char* id : {"s1", "s2"}) {
    store::RefreshTokenFamily family;
    family.id = id;
    family.user_id = "u1";
    family.token_hash = std::string("h-") + id;
    family.expires_ms = INT64_MAX;
    ASSERT_TRUE(store->metadata().CreateRefreshFamily(family).ok());
  }
  JwtSyncAuthenticator authn(*codec, store->metadata());
  auto now = std::chrono::system_clock::now();
  auto token = [&](const char* sid) {
    return codec->Sign(codec->NewClaims("u1", sid, TokenVersion(user), now));
  };
  auto live = authn.Authenticate(token("s1"));
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  ASSERT_TRUE(authn.StillValid(*live).ok());
  ASSERT_TRUE(store->metadata().RevokeRefreshFamily("s1").ok());
  EXPECT_EQ(authn.StillValid(*live).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(authn.Authenticate(token("s1")).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(authn.Authenticate(token("gone")).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(authn.Authenticate(token("s2")).ok()) << "another session";
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
