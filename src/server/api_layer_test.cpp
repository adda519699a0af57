// The API guard in process: a MemoryMetadata store, a ManualClock and the
// Router, no sockets. End-to-end coverage is in tests/e2e/api_http_test.cpp.
#include "server/api_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <thread>

#include "auth/in_memory_mailer.h"
#include "auth/opaque_token.h"
#include "server/api_routes.h"
#include "store/memory_metadata.h"

namespace weft::server {
namespace {

namespace json = boost::json;

#define EXPECT_RCODE_NOT_FOUND(expr) \
  EXPECT_EQ((expr).status().code(), StatusCode::kNotFound)

// Runs `after_membership` once, just after the next membership read: a
// change made by another request just after this one's route checked the
// role.
class InterposedMetadata : public store::MemoryMetadata {
 public:
  std::function<void()> after_membership;
  Result<store::Membership> GetMembership(std::string_view workspace_id,
                                          std::string_view user_id) override {
    auto read = MemoryMetadata::GetMembership(workspace_id, user_id);
    if (auto hook = std::exchange(after_membership, nullptr)) hook();
    return read;
  }
  // Member lists cannot be read; the second role change fails.
  bool fail_list_members = false;
  Result<std::vector<store::Membership>> ListMembers(
      std::string_view workspace_id) override {
    if (fail_list_members) return Status::Unavailable("the store is down");
    return MemoryMetadata::ListMembers(workspace_id);
  }
  bool fail_second_role = false;
  Status SetMemberRole(std::string_view workspace_id, std::string_view user_id,
                       store::Role role) override {
    if (fail_second_role && ++role_sets_ == 2) {
      return Status::Unavailable("the store is down");
    }
    return MemoryMetadata::SetMemberRole(workspace_id, user_id, role);
  }
  // The next `fail_get_users` user reads fail (a busy store).
  int fail_get_users = 0;
  Result<store::User> GetUser(std::string_view id) override {
    if (fail_get_users > 0) {
      --fail_get_users;
      return Status::Unavailable("the store is busy");
    }
    return MemoryMetadata::GetUser(id);
  }
  bool fail_revoke_user_families = false;
  Status RevokeUserRefreshFamilies(std::string_view user_id) override {
    if (fail_revoke_user_families)
      return Status::Unavailable("the store is down");
    return MemoryMetadata::RevokeUserRefreshFamilies(user_id);
  }
  // Sessions cannot start (the store fails to write their family).
  bool fail_families = false;
  Status CreateRefreshFamily(const store::RefreshTokenFamily& f) override {
    if (fail_families) return Status::Unavailable("the store is down");
    return MemoryMetadata::CreateRefreshFamily(f);
  }

 private:
  int role_sets_ = 0;
};

class ApiLayerTest : public ::testing::Test {
 protected:
  ApiLayerTest()
      : hasher_(*auth::PasswordHasher::Create(
            auth::PasswordHashOptions::MinimumForTests())),
        access_(*auth::AccessTokenCodec::Create(std::string(40, 'k'))),
        reset_(*auth::AccessTokenCodec::Create(std::string(40, 'r'))),
        auth_limiter_({3, 0.05, 100}),
        api_limiter_({1000, 1000, 100}),
        login_limiter_(auth::RateLimitOptions::LoginPerAccount()) {
    api_.metadata = &metadata_;
    api_.hasher = &hasher_;
    api_.access_tokens = &access_;
    api_.reset_tokens = &reset_;
    api_.refresh_seal = &seal_;
    api_.mailer = &mailer_;
    api_.clock = &clock_;
    api_.auth_limiter = &auth_limiter_;
    api_.api_limiter = &api_limiter_;
    api_.login_limiter = &login_limiter_;
    api_.invitation_limiter = &invitation_limiter_;
    api_.reset_mail_limiter = &reset_mail_limiter_;
    api_.on_access_changed = [this](const std::string& user) {
      changed_.push_back(user);
    };
    api_.on_access_changed_for_all = [this] { changed_.push_back("*"); };
    AddApiRoutes(router_, api_, "");
  }

  // The peer address of the calls (Call).
  std::string remote_ = "10.0.0.1:1234";

  HttpResponse Call(std::string method, std::string path, std::string body = "",
                    std::string token = "", HeaderMap headers = {}) {
    HttpRequest r;
    r.method = std::move(method);
    auto q = path.find('?');
    r.path = path.substr(0, q);
    if (q != std::string::npos) r.query = path.substr(q + 1);
    r.target = path;
    r.body = std::move(body);
    r.request_id = "rid";
    r.remote = remote_;
    r.headers = std::move(headers);
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    return router_.Dispatch(r);
  }

  // Registers and returns the session answer.
  json::object Register(const std::string& name) {
    auto r = Call(
        "POST", "/api/v1/auth/register",
        R"({"email":")" + name +
            R"(@example.com","password":"correct horse battery","display_name":")" +
            name + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).as_object();
  }

  // POST /auth/refresh with `token`, 21 s after the last call: the auth
  // routes are rate limited (3, then one per 20 s).
  HttpResponse RefreshWith(const std::string& token) {
    clock_.Advance(std::chrono::seconds(21));
    return Call("POST", "/api/v1/auth/refresh",
                R"({"refresh_token":")" + token + R"("})");
  }

  // Signs `name` in again (access tokens expire as the clock advances).
  std::string Login(const std::string& name) {
    auto r = Call("POST", "/api/v1/auth/login",
                  R"({"email":")" + name +
                      R"(@example.com","password":"correct horse battery"})");
    EXPECT_EQ(r.status, 200) << r.body;
    return Str(json::parse(r.body).as_object(), "access_token");
  }

  static std::string Str(const json::object& o, const char* key) {
    return std::string(o.at(key).as_string());
  }

  // A new workspace of the token's user, with a text document per title.
  std::pair<std::string, std::vector<std::string>> WorkspaceWithDocs(
      const std::string& token, std::vector<std::string> titles) {
    auto w = Call("POST", "/api/v1/workspaces", R"({"name":"W"})", token);
    EXPECT_EQ(w.status, 201) << w.body;
    std::string ws = Str(json::parse(w.body).as_object(), "id");
    std::vector<std::string> ids;
    for (const auto& title : titles) {
      auto d = Call("POST", "/api/v1/workspaces/" + ws + "/documents",
                    R"({"kind":"text","title":")" + title + R"("})", token);
      EXPECT_EQ(d.status, 201) << d.body;
      ids.push_back(Str(json::parse(d.body).as_object(), "id"));
    }
    return {ws, ids};
  }

  // An invitation of `email` as `role` to workspace `ws`, sent by the
  // token's user; the answer (id, token, ...).
  json::object Invite(const std::string& ws, const std::string& email,
                      const std::string& role, const std::string& token) {
    auto r =
        Call("POST", "/api/v1/workspaces/" + ws + "/invitations",
             R"({"email":")" + email + R"(","role":")" + role + R"("})", token);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body).as_object() : json::object{};
  }

  // A password-reset link's token for `name`, from the mail a reset request
  // sends ("" when none came).
  std::string ResetToken(const std::string& name) {
    std::string email = name + "@example.com";
    auto r = Call("POST", "/api/v1/auth/password-reset/request",
                  R"({"email":")" + email + R"("})");
    EXPECT_EQ(r.status, 202) << r.body;
    auto mail = mailer_.LastTo(email);
    if (!mail) return "";
    auto at = mail->text_body.find("token=");
    if (at == std::string::npos) return "";
    std::string token = mail->text_body.substr(at + 6);
    return token.substr(0, token.find_first_of(" \r\n"));
  }

  // Accepts an invitation (Invite's answer) as the token's user; the status.
  int Accept(const json::object& invitation, const std::string& token) {
    return Call("POST",
                "/api/v1/invitations/" + Str(invitation, "token") + "/accept",
                "", token)
        .status;
  }

  // Records the documents whose content the API purges.
  std::vector<std::string> purged_;
  void RecordPurges() {
    api_.purge_document = [this](const std::string& id) {
      purged_.push_back(id);
      return Status::Ok();
    };
  }

  InterposedMetadata metadata_;
  auth::PasswordHasher hasher_;
  auth::AccessTokenCodec access_;
  auth::AccessTokenCodec reset_;
  auth::RefreshTokenSeal seal_{"test seal key"};
  auth::InMemoryMailer mailer_;
  auth::ManualClock clock_;
  auth::TokenBucketLimiter auth_limiter_;
  auth::TokenBucketLimiter api_limiter_;
  auth::TokenBucketLimiter login_limiter_;
  auth::TokenBucketLimiter invitation_limiter_{
      auth::RateLimitOptions::InvitationsPerUser()};
  auth::TokenBucketLimiter reset_mail_limiter_{
      auth::RateLimitOptions::ResetMailsPerAccount()};
  ApiContext api_;
  Router router_;
  std::vector<std::string> changed_;
};

TEST_F(ApiLayerTest, AccessTokensExpireWithTheClock) {
  auto s = Register("ann");
  std::string token = Str(s, "access_token");
  EXPECT_EQ(Call("GET", "/api/v1/me", "", token).status, 200);
  clock_.Advance(std::chrono::minutes(15) + std::chrono::seconds(61));
  auto expired = Call("GET", "/api/v1/me", "", token);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.body.find("expired"), std::string::npos);
  // The refresh token still works and gives a fresh access token.
  auto refreshed =
      Call("POST", "/api/v1/auth/refresh",
           R"({"refresh_token":")" + Str(s, "refresh_token") + R"("})");
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(Call("GET", "/api/v1/me", "",
                 Str(json::parse(refreshed.body).as_object(), "access_token"))
                .status,
            200);
}

TEST_F(ApiLayerTest, RefreshTokensExpireAndSessionsHaveAnEnd) {
  auto s = Register("ann");
  std::string refresh = Str(s, "refresh_token");
  // Refreshing every 20 days keeps a session alive up to 90 days, no more.
  for (int day = 20; day <= 80; day += 20) {
    clock_.Advance(std::chrono::hours(24 * 20));
    auto r = Call("POST", "/api/v1/auth/refresh",
                  R"({"refresh_token":")" + refresh + R"("})");
    ASSERT_EQ(r.status, 200) << "day " << day << ": " << r.body;
    refresh = Str(json::parse(r.body).as_object(), "refresh_token");
  }
  clock_.Advance(std::chrono::hours(24 * 20));  // day 100
  EXPECT_EQ(Call("POST", "/api/v1/auth/refresh",
                 R"({"refresh_token":")" + refresh + R"("})")
                .status,
            401);
}

// A login that proved the old password while it was being changed starts
// its family after the change revoked every family: it must still not
// outlive the change. (Here the change is made behind the routes' back,
// after the family started, which is what that race leaves.)
TEST_F(ApiLayerTest, AFamilyStartedUnderAnOlderPasswordCannotRefresh) {
  auto s = Register("ann");
  std::string user_id = Str(s.at("user").as_object(), "id");
  std::string refresh = Str(s, "refresh_token");
  ASSERT_TRUE(metadata_
                  .SetPasswordHash(user_id,
                                   metadata_.GetUser(user_id)->password_hash,
                                   "argon2id$changed", 5)
                  .ok());
  auto r = Call("POST", "/api/v1/auth/refresh",
                R"({"refresh_token":")" + refresh + R"("})");
  EXPECT_EQ(r.status, 401) << r.body;
  auto family =
      metadata_.GetRefreshFamily(refresh.substr(0, refresh.find('.')));
  ASSERT_TRUE(family.ok());
  EXPECT_TRUE(family->revoked);
}

TEST_F(ApiLayerTest, ATokenNeverIssuedDoesNotEndTheSession) {
  auto s = Register("ann");
  std::string refresh = Str(s, "refresh_token");
  std::string family = refresh.substr(0, refresh.find('.'));
  // The family id is in every access token (`sid`); the rest is made up.
  std::string forged = family + ".wrt_" + std::string(43, 'A');
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(RefreshWith(forged).status, 401);
    auto r = RefreshWith(refresh);
    ASSERT_EQ(r.status, 200) << "round " << i << ": " << r.body;
    std::string next = Str(json::parse(r.body).as_object(), "refresh_token");
    if (i == 1) {
      // The token just replaced is reuse: that ends the session.
      EXPECT_EQ(RefreshWith(refresh).status, 401);
      EXPECT_EQ(RefreshWith(next).status, 401);
    }
    refresh = next;
  }
}

// A thief refreshes twice with a stolen token: the victim's copy is then
// two rotations old, neither the current token nor the one it replaced.
// It still ends the session (the seal says the server issued it), so the
// thief's branch does not live on unnoticed.
TEST_F(ApiLayerTest, ATokenTwoRotationsOldEndsTheSession) {
  auto s = Register("ann");
  std::string stolen = Str(s, "refresh_token");
  std::string family = stolen.substr(0, stolen.find('.'));
  auto b = RefreshWith(stolen);
  ASSERT_EQ(b.status, 200) << b.body;
  auto c = RefreshWith(Str(json::parse(b.body).as_object(), "refresh_token"));
  ASSERT_EQ(c.status, 200) << c.body;
  std::string thiefs = Str(json::parse(c.body).as_object(), "refresh_token");
  EXPECT_EQ(RefreshWith(stolen).status, 401);
  EXPECT_TRUE(metadata_.GetRefreshFamily(family)->revoked);
  EXPECT_EQ(RefreshWith(thiefs).status, 401);
}

TEST_F(ApiLayerTest, ASealThatDoesNotVerifyEndsNothing) {
  auto s = Register("ann");
  std::string refresh = Str(s, "refresh_token");
  std::string family = refresh.substr(0, refresh.find('.'));
  // Three parts, the last the length of a seal but not ours.
  EXPECT_EQ(std::count(refresh.begin(), refresh.end(), '.'), 2);
  std::string forged = family + ".wrt_" + std::string(43, 'A') + "." +
                       std::string(auth::RefreshTokenSeal::kSealChars, 'A');
  EXPECT_EQ(RefreshWith(forged).status, 401);
  EXPECT_FALSE(metadata_.GetRefreshFamily(family)->revoked);
  // A token issued before tokens were sealed (no third part) still works
  // while it is the current one.
  auto r = RefreshWith(refresh.substr(0, refresh.rfind('.')));
  EXPECT_EQ(r.status, 200) << r.body;
}

// Reset requests for one account from many IPs (each within its own
// limit): a few mails go, then the answers stay the same but nothing more
// is mailed, until the account's bucket refills.
TEST_F(ApiLayerTest, ResetMailsPerAccountAreLimitedWhateverTheIp) {
  Register("ann");
  auto mails = [&] {
    std::size_t n = 0;
    for (const auto& m : mailer_.Messages()) n += m.to == "ann@example.com";
    return n;
  };
  const std::size_t before = mails();
  for (int i = 0; i < 6; ++i) {
    remote_ = "10.0.1." + std::to_string(i) + ":1234";
    auto r = Call("POST", "/api/v1/auth/password-reset/request",
                  R"({"email":"ann@example.com"})");
    EXPECT_EQ(r.status, 202) << r.body;
  }
  EXPECT_EQ(mails() - before, 3u);
  clock_.Advance(std::chrono::minutes(10));
  remote_ = "10.0.2.1:1234";
  EXPECT_EQ(Call("POST", "/api/v1/auth/password-reset/request",
                 R"({"email":"ann@example.com"})")
                .status,
            202);
  EXPECT_EQ(mails() - before, 4u);
}

// A store failure during a refresh is a 503 and leaves the session as it
// was: the same token refreshes once the store answers (it was a 401 after
// the rotation had committed, so the new token was lost and the retry
// with the old one counted as reuse).
TEST_F(ApiLayerTest, ARefreshTheStoreFailsKeepsTheSession) {
  auto s = Register("ann");
  std::string refresh = Str(s, "refresh_token");
  metadata_.fail_get_users = 1;
  auto failed = RefreshWith(refresh);
  EXPECT_EQ(failed.status, 503) << failed.body;
  auto again = RefreshWith(refresh);
  EXPECT_EQ(again.status, 200) << again.body;
}

// Ending the other sessions fails after the new password is stored: the
// change happened, so it is answered as done (a new session), and the
// families the revoke missed cannot refresh (their version is old).
TEST_F(ApiLayerTest, APasswordChangeWhoseRevokeFailsStillSucceeds) {
  auto s = Register("ann");
  std::string other = Str(s, "refresh_token");
  metadata_.fail_revoke_user_families = true;
  auto r = Call("POST", "/api/v1/me/password",
                R"({"current_password":"correct horse battery",)"
                R"("new_password":"a much better passphrase"})",
                Str(s, "access_token"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(Str(json::parse(r.body).as_object(), "refresh_token").empty());
  EXPECT_EQ(RefreshWith(other).status, 401);
}

// Signing out ends the session's access tokens at once (not at their
// expiry) and tells its live sync sessions; another session goes on.
TEST_F(ApiLayerTest, SigningOutEndsTheSessionsAccessTokens) {
  auto s = Register("ann");
  std::string user_id = Str(s.at("user").as_object(), "id");
  std::string other = Login("ann");
  std::string access = Str(s, "access_token");
  ASSERT_EQ(Call("GET", "/api/v1/me", "", access).status, 200);
  changed_.clear();
  clock_.Advance(std::chrono::seconds(21));
  auto out = Call("POST", "/api/v1/auth/logout",
                  R"({"refresh_token":")" + Str(s, "refresh_token") + R"("})");
  ASSERT_EQ(out.status, 204) << out.body;
  EXPECT_EQ(changed_, std::vector<std::string>{user_id});
  EXPECT_EQ(Call("GET", "/api/v1/me", "", access).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/me", "", other).status, 200);
}

TEST_F(ApiLayerTest, APasswordChangeTellsTheUsersLiveSessions) {
  auto s = Register("ann");
  std::string user_id = Str(s.at("user").as_object(), "id");
  changed_.clear();
  auto r = Call("POST", "/api/v1/me/password",
                R"({"current_password":"correct horse battery",)"
                R"("new_password":"a much better passphrase"})",
                Str(s, "access_token"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(changed_, std::vector<std::string>{user_id});
}

TEST_F(ApiLayerTest, RateLimitComesBeforeAuthenticationOnAuthRoutes) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Call("POST", "/api/v1/auth/login", "{}").status, 400);
  }
  auto refused = Call("POST", "/api/v1/auth/login", "{}");
  EXPECT_EQ(refused.status, 429);
  bool retry_after = false;
  for (const auto& [name, value] : refused.headers) {
    if (name == "Retry-After") retry_after = std::stoi(value) >= 1;
  }
  EXPECT_TRUE(retry_after);
  clock_.Advance(std::chrono::seconds(21));  // one token back at 0.05/s
  EXPECT_EQ(Call("POST", "/api/v1/auth/login", "{}").status, 400);
}

// One host commonly holds a whole IPv6 /64: its addresses share a bucket,
// while other /64s and IPv4 callers keep their own.
TEST_F(ApiLayerTest, IPv6CallersAreLimitedByTheirSlash64) {
  // As the server writes a peer (Asio's address, no brackets, ":port").
  for (int i = 1; i <= 3; ++i) {
    remote_ = "2001:db8:1:2::" + std::to_string(i) + ":4000";
    EXPECT_EQ(Call("POST", "/api/v1/auth/login", "{}").status, 400);
  }
  remote_ = "2001:db8:1:2:ffff::9:4000";
  EXPECT_EQ(Call("POST", "/api/v1/auth/login", "{}").status, 429);
  remote_ = "[2001:db8:1:2::77]:4000";  // bracketed: the same /64
  EXPECT_EQ(Call("POST", "/api/v1/auth/login", "{}").status, 429);
  remote_ = "2001:db8:1:3::1:4000";
  EXPECT_EQ(Call("POST", "/api/v1/auth/login", "{}").status, 400);
  remote_ = "::ffff:10.0.0.7:4000";  // an IPv4 caller on a dual stack
  EXPECT_EQ(Call("POST", "/api/v1/auth/login", "{}").status, 400);
  remote_ = "fe80::1%eth0:4000";  // link-local, with its zone
  EXPECT_EQ(Call("POST", "/api/v1/auth/login", "{}").status, 400);
}

TEST_F(ApiLayerTest, MembershipChangesAreReportedToTheHook) {
  auto ann = Register("ann");
  auto bob = Register("bob");
  std::string ann_token = Str(ann, "access_token");
  auto ws =
      json::parse(
          Call("POST", "/api/v1/workspaces", R"({"name":"W"})", ann_token).body)
          .as_object();
  std::string id = Str(ws, "id");
  auto inv =
      json::parse(Call("POST", "/api/v1/workspaces/" + id + "/invitations",
                       R"({"email":"bob@example.com","role":"viewer"})",
                       ann_token)
                      .body)
          .as_object();
  std::string bob_id = Str(bob.at("user").as_object(), "id");
  changed_.clear();
  ASSERT_EQ(Call("POST", "/api/v1/invitations/" + Str(inv, "token") + "/accept",
                 "", Str(bob, "access_token"))
                .status,
            200);
  EXPECT_EQ(changed_, std::vector<std::string>{bob_id});
  changed_.clear();
  ASSERT_EQ(Call("PATCH", "/api/v1/workspaces/" + id + "/members/" + bob_id,
                 R"({"role":"editor"})", ann_token)
                .status,
            200);
  EXPECT_EQ(changed_, std::vector<std::string>{bob_id});
  changed_.clear();
  ASSERT_EQ(Call("DELETE", "/api/v1/workspaces/" + id, "", ann_token).status,
            204);
  EXPECT_EQ(changed_.size(), 2u) << "both members";
}

// An invitation is good only while whoever sent it is still an owner: an
// owner on the way out cannot invite an address of their own as owner and
// come back through it.
TEST_F(ApiLayerTest, AnInvitationFromSomeoneNoLongerAnOwnerIsVoid) {
  auto ann = Register("ann");
  auto bob = Register("bob");
  auto cat = Register("cat");
  std::string ann_token = Str(ann, "access_token");
  std::string bob_token = Str(bob, "access_token");
  std::string bob_id = Str(bob.at("user").as_object(), "id");
  std::string id = WorkspaceWithDocs(ann_token, {}).first;
  ASSERT_EQ(
      Accept(Invite(id, "bob@example.com", "editor", ann_token), bob_token),
      200);
  // Ann invites cat as owner, then hands the workspace to bob.
  auto to_cat = Invite(id, "cat@example.com", "owner", ann_token);
  ASSERT_EQ(Call("POST", "/api/v1/workspaces/" + id + "/transfer-ownership",
                 R"({"user_id":")" + bob_id + R"("})", ann_token)
                .status,
            204);
  auto accept =
      Call("POST", "/api/v1/invitations/" + Str(to_cat, "token") + "/accept",
           "", Str(cat, "access_token"));
  EXPECT_EQ(accept.status, 410) << accept.body;
  EXPECT_NE(accept.body.find("invitation_void"), std::string::npos);
  // Ann, an editor now, cannot invite; bob, the owner, can.
  EXPECT_EQ(Call("POST", "/api/v1/workspaces/" + id + "/invitations",
                 R"({"email":"dan@example.com","role":"viewer"})", ann_token)
                .status,
            403);
  // Listed as void, and replaced by a new one without a revoke.
  auto list =
      Call("GET", "/api/v1/workspaces/" + id + "/invitations", "", bob_token);
  EXPECT_NE(list.body.find(R"("status":"void")"), std::string::npos)
      << list.body;
  EXPECT_EQ(Accept(Invite(id, "cat@example.com", "viewer", bob_token),
                   Str(cat, "access_token")),
            200);
}

// A member cannot be invited, and removing a member revokes invitations
// still pending to their address (from before members could not be
// invited): either would let them back in through the link after they
// were removed.
TEST_F(ApiLayerTest, NoInvitationLetsARemovedMemberBackIn) {
  auto ann = Register("ann");
  auto bob = Register("bob");
  std::string ann_token = Str(ann, "access_token");
  std::string bob_token = Str(bob, "access_token");
  std::string bob_id = Str(bob.at("user").as_object(), "id");
  std::string ann_id = Str(ann.at("user").as_object(), "id");
  std::string id = WorkspaceWithDocs(ann_token, {}).first;
  ASSERT_EQ(
      Accept(Invite(id, "bob@example.com", "editor", ann_token), bob_token),
      200);
  auto again = Call("POST", "/api/v1/workspaces/" + id + "/invitations",
                    R"({"email":"BOB@example.com","role":"owner"})", ann_token);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("already_member"), std::string::npos);
  // An invitation pending to bob while he is a member (stored before; it
  // replaced the one he accepted, as a new invitation does).
  auto used = metadata_.ListInvitations(id);
  ASSERT_TRUE(used.ok());
  for (const auto& i : *used)
    ASSERT_TRUE(metadata_.DeleteInvitation(id, i.id).ok());
  auto token = auth::IssueOpaqueToken(auth::TokenPurpose::kInvitation);
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          clock_.Now().time_since_epoch())
          .count();
  store::Invitation old{
      "inv-old", id,     "bob@example.com",    store::Role::kOwner, token.hash,
      ann_id,    now_ms, now_ms + 3600 * 1000, std::nullopt};
  ASSERT_TRUE(metadata_.CreateInvitation(old).ok());
  ASSERT_EQ(Call("DELETE", "/api/v1/workspaces/" + id + "/members/" + bob_id,
                 "", ann_token)
                .status,
            204);
  auto back = Call("POST", "/api/v1/invitations/" + token.token + "/accept", "",
                   bob_token);
  EXPECT_EQ(back.status, 404) << back.body;
  EXPECT_EQ(Call("GET", "/api/v1/workspaces/" + id, "", bob_token).status, 404);
  // Once removed, bob can be invited again, and come back that way.
  EXPECT_EQ(
      Accept(Invite(id, "bob@example.com", "viewer", ann_token), bob_token),
      200);
}

// Each invitation mails an address of the inviter's choosing: 50 at once,
// then 50 an hour per user, whatever the workspace or the address.
TEST_F(ApiLayerTest, InvitationsAreLimitedPerUser) {
  auto ann = Register("ann");
  std::string ann_token = Str(ann, "access_token");
  std::string ws = WorkspaceWithDocs(ann_token, {}).first;
  auto invite = [&](int i) {
    return Call("POST", "/api/v1/workspaces/" + ws + "/invitations",
                R"({"email":"p)" + std::to_string(i) +
                    R"(@example.com","role":"viewer"})",
                ann_token);
  };
  for (int i = 0; i < 50; ++i) {
    // Past the per-user API limit's burst of 60 with the other calls.
    if (i == 40) {
      clock_.Advance(std::chrono::seconds(10));
      // Refused for another reason (pending already): sends nothing,
      // costs nothing.
      EXPECT_EQ(invite(0).status, 409);
    }
    ASSERT_EQ(invite(i).status, 201) << i;
  }
  std::size_t mails = mailer_.Messages().size();
  auto refused = invite(50);
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_NE(refused.body.find("rate_limited"), std::string::npos);
  EXPECT_EQ(mailer_.Messages().size(), mails) << "no mail for a refused one";
  clock_.Advance(std::chrono::minutes(2));  // 1.7 refilled
  EXPECT_EQ(invite(51).status, 201);
  EXPECT_EQ(invite(52).status, 429);
}

// Guesses at one account from many IPs (each under its own limit) are
// limited per account: 10 failures, then one a minute. Successful
// sign-ins do not count, addresses without an account are limited alike,
// and a confirmed password reset lets the owner in again at once.
TEST_F(ApiLayerTest, FailedSignInsAreLimitedPerAccountFromAnyIp) {
  Register("ann");
  int ip = 0;
  auto login = [&](const std::string& email, const std::string& password) {
    remote_ = "10.1.0." + std::to_string(++ip) + ":4000";
    return Call(
        "POST", "/api/v1/auth/login",
        R"({"email":")" + email + R"(","password":")" + password + R"("})");
  };
  for (int i = 0; i < 15; ++i) {
    ASSERT_EQ(login("ann@example.com", "correct horse battery").status, 200);
  }
  for (const std::string email : {"ANN@example.com", "nobody@example.com"}) {
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(login(email, "wrong guess number " + std::to_string(i)).status,
                401)
          << email << " " << i;
    }
    auto refused = login(email, "correct horse battery");
    EXPECT_EQ(refused.status, 429) << email << ": " << refused.body;
    EXPECT_NE(refused.body.find("rate_limited"), std::string::npos);
  }
  clock_.Advance(std::chrono::seconds(61));
  ASSERT_EQ(login("ann@example.com", "correct horse battery").status, 200);
  EXPECT_EQ(login("ann@example.com", "wrong again").status, 401);
  EXPECT_EQ(login("ann@example.com", "correct horse battery").status, 429);
  // The owner resets the password and is let in.
  std::string token = ResetToken("ann");
  ASSERT_FALSE(token.empty());
  // Drained again by someone failing on purpose: the reset itself signs
  // the owner in, and fills the bucket again.
  for (int i = 0; i < 3; ++i) login("ann@example.com", "wrong once more");
  auto reset = Call("POST", "/api/v1/auth/password-reset/confirm",
                    R"({"token":")" + token +
                        R"(","new_password":"a brand new passphrase"})");
  ASSERT_EQ(reset.status, 200) << reset.body;
  std::string session =
      Str(json::parse(reset.body).as_object(), "access_token");
  EXPECT_EQ(Call("GET", "/api/v1/me", "", session).status, 200);
  EXPECT_EQ(login("ann@example.com", "a brand new passphrase").status, 200);
  // A password change checks a password too: counted alike, so a stolen
  // session guesses no faster. The refusal describes its own limit.
  for (int i = 0; i < 8; ++i)
    login("ann@example.com", "wrong " + std::to_string(i));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Call("POST", "/api/v1/me/password",
                   R"({"current_password":"guess number )" + std::to_string(i) +
                       R"(","new_password":"yet another passphrase"})",
                   session)
                  .status,
              403);
  }
  auto refused = login("ann@example.com", "a brand new passphrase");
  EXPECT_EQ(refused.status, 429);
  std::string remaining;
  for (const auto& [name, value] : refused.headers) {
    if (name == "X-RateLimit-Remaining") remaining = value;
  }
  EXPECT_EQ(remaining, "0");
}

// A reset whose session cannot start (the store failed just then) has still
// replaced the password and spent its link: it answers 204 (sign in), not
// an error that a retry would then meet as an invalid link.
TEST_F(ApiLayerTest, AResetWhoseSessionCannotStartStillSucceeds) {
  Register("ann");
  std::string token = ResetToken("ann");
  ASSERT_FALSE(token.empty());
  metadata_.fail_families = true;
  auto reset = Call("POST", "/api/v1/auth/password-reset/confirm",
                    R"({"token":")" + token +
                        R"(","new_password":"a brand new passphrase"})");
  EXPECT_EQ(reset.status, 204) << reset.body;
  metadata_.fail_families = false;
  remote_ = "10.0.0.2:1234";  // past the per-IP limit of this fixture
  EXPECT_EQ(
      Call("POST", "/api/v1/auth/login",
           R"({"email":"ann@example.com","password":"a brand new passphrase"})")
          .status,
      200);
}

// An owner demoted after the route checked their role (by another owner,
// in a request of their own) renames, deletes and revokes nothing: the
// handlers check the role again under the workspace's lock.
TEST_F(ApiLayerTest, AnOwnerDemotedMeanwhileChangesNothing) {
  auto ann = Register("ann");
  auto bob = Register("bob");
  std::string ann_token = Str(ann, "access_token");
  std::string ann_id = Str(ann.at("user").as_object(), "id");
  std::string id = WorkspaceWithDocs(ann_token, {}).first;
  ASSERT_TRUE(metadata_
                  .AddMember({id, Str(bob.at("user").as_object(), "id"),
                              store::Role::kOwner, 0})
                  .ok());
  auto invitation = Invite(id, "cat@example.com", "editor", ann_token);
  auto demote_then = [&](std::string method, std::string path,
                         std::string body) {
    ASSERT_TRUE(metadata_.SetMemberRole(id, ann_id, store::Role::kOwner).ok());
    metadata_.after_membership = [&] {
      ASSERT_TRUE(
          metadata_.SetMemberRole(id, ann_id, store::Role::kEditor).ok());
    };
    auto r = Call(method, path, body, ann_token);
    EXPECT_EQ(r.status, 403) << method << " " << path << ": " << r.body;
  };
  std::string base = "/api/v1/workspaces/" + id;
  demote_then("PATCH", base, R"({"name":"Taken"})");
  demote_then("DELETE", base + "/invitations/" + Str(invitation, "id"), "");
  demote_then("DELETE", base, "");
  auto w = metadata_.GetWorkspace(id);
  ASSERT_TRUE(w.ok()) << "not deleted";
  EXPECT_EQ(w->name, "W") << "not renamed";
  auto invitations = metadata_.ListInvitations(id);
  ASSERT_TRUE(invitations.ok());
  EXPECT_EQ(invitations->size(), 1u) << "not revoked";
}

// Whom an owner invited is for owners (as the invitations list is): the
// activity feed shows the others that someone was invited, not who.
TEST_F(ApiLayerTest, TheActivityFeedShowsInviteeEmailsToOwnersOnly) {
  auto ann = Register("ann");
  auto bob = Register("bob");
  std::string ann_token = Str(ann, "access_token");
  std::string id = WorkspaceWithDocs(ann_token, {}).first;
  ASSERT_EQ(Accept(Invite(id, "bob@example.com", "viewer", ann_token),
                   Str(bob, "access_token")),
            200);
  Invite(id, "carl@example.com", "editor", ann_token);
  std::string path = "/api/v1/workspaces/" + id + "/activity";
  auto as_owner = Call("GET", path, "", ann_token);
  auto as_viewer = Call("GET", path, "", Str(bob, "access_token"));
  ASSERT_EQ(as_viewer.status, 200);
  EXPECT_NE(as_owner.body.find("carl@example.com"), std::string::npos);
  EXPECT_EQ(as_viewer.body.find("carl@example.com"), std::string::npos)
      << as_viewer.body;
  EXPECT_NE(as_viewer.body.find("member.invited"), std::string::npos);
}

TEST_F(ApiLayerTest, DeletingAWorkspaceDeletesTheContentOfEveryDocument) {
  std::string token = Str(Register("ann"), "access_token");
  RecordPurges();
  auto [ws, docs] = WorkspaceWithDocs(token, {"a", "b"});
  // One in the trash: its content goes too.
  ASSERT_EQ(Call("DELETE", "/api/v1/documents/" + docs[1], "", token).status,
            204);
  ASSERT_EQ(Call("DELETE", "/api/v1/workspaces/" + ws, "", token).status, 204);
  std::sort(purged_.begin(), purged_.end());
  std::sort(docs.begin(), docs.end());
  EXPECT_EQ(purged_, docs);
  // A failure is not hidden behind a 204, names the document, and does
  // not stop the others' purge (nothing would retry them).
  auto [ws2, docs2] = WorkspaceWithDocs(token, {"c", "d", "e"});
  std::vector<std::string> tried;
  api_.purge_document = [&](const std::string& id) {
    tried.push_back(id);
    return id == docs2[1] ? Status::Unavailable("store down") : Status::Ok();
  };
  auto r = Call("DELETE", "/api/v1/workspaces/" + ws2, "", token);
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find(docs2[1]), std::string::npos) << r.body;
  EXPECT_EQ(tried.size(), 3u);
}

TEST_F(ApiLayerTest, DocumentsPastTheirRetentionArePurged) {
  std::string token = Str(Register("ann"), "access_token");
  RecordPurges();
  auto [ws, ids] = WorkspaceWithDocs(token, {"old", "young", "kept"});
  ASSERT_EQ(Call("DELETE", "/api/v1/documents/" + ids[0], "", token).status,
            204);
  clock_.Advance(api_.document_retention - std::chrono::hours(1));
  token = Login("ann");
  ASSERT_EQ(Call("DELETE", "/api/v1/documents/" + ids[1], "", token).status,
            204);
  auto none = PurgeExpiredDocuments(api_);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0u);
  clock_.Advance(std::chrono::hours(2));  // the first is past its retention
  // Before the purge has run, the trash no longer lists it: it can no
  // longer be restored.
  token = Login("ann");
  auto trash = Call(
      "GET", "/api/v1/workspaces/" + ws + "/documents?deleted=true", "", token);
  ASSERT_EQ(trash.status, 200) << trash.body;
  auto trash_json = json::parse(trash.body);
  const auto& listed = trash_json.at("items").as_array();
  ASSERT_EQ(listed.size(), 1u) << trash.body;
  EXPECT_EQ(listed[0].at("id").as_string(), ids[1]);
  auto one = PurgeExpiredDocuments(api_);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, 1u);
  EXPECT_EQ(purged_, std::vector<std::string>{ids[0]});
  EXPECT_RCODE_NOT_FOUND(metadata_.GetDocument(ids[0]));
  EXPECT_TRUE(metadata_.GetDocument(ids[1]).ok());  // still restorable
  EXPECT_TRUE(metadata_.GetDocument(ids[2]).ok());
}

TEST_F(ApiLayerTest, PasswordGuessesThroughAPasswordChangeAreLimited) {
  auto s = Register("ann");
  std::string token = Str(s, "access_token");
  auto guess = [&] {
    return Call("POST", "/api/v1/me/password",
                R"({"current_password":"not the password at all",)"
                R"("new_password":"a much better passphrase"})",
                token)
        .status;
  };
  // The auth limit (a burst of 3 here), per user: not the API's 1,000.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(guess(), 403);
  EXPECT_EQ(guess(), 429);
  // Other routes of the user are not held up by it.
  EXPECT_EQ(Call("GET", "/api/v1/me", "", token).status, 200);
}

// Without a token there is no user to key the per-user limit by: 401, and
// the auth limiter (whose burst the anonymous calls would spend in one
// shared bucket, or worse, read a user that is not there) is left alone.
TEST_F(ApiLayerTest, AnAnonymousPasswordChangeIsUnauthenticated) {
  auto s = Register("ann");
  std::string token = Str(s, "access_token");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Call("POST", "/api/v1/me/password",
                   R"({"current_password":"x","new_password":"y"})")
                  .status,
              401);
  }
  // ann's own budget (a burst of 3) is untouched.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Call("POST", "/api/v1/me/password",
                   R"({"current_password":"not the password at all",)"
                   R"("new_password":"a much better passphrase"})",
                   token)
                  .status,
              403);
  }
}

TEST_F(ApiLayerTest, BadTokensAreRateLimitedPerIp) {
  int refused_at = 0;
  for (int i = 1; i <= 1001 && refused_at == 0; ++i) {
    auto r = Call("GET", "/api/v1/me", "", "x.y.z");
    bool headers = false;
    for (const auto& [name, value] : r.headers) {
      headers = headers || name == "X-RateLimit-Limit";
    }
    EXPECT_TRUE(headers) << "request " << i;
    if (r.status == 429) {
      refused_at = i;
    } else {
      EXPECT_EQ(r.status, 401);
    }
  }
  EXPECT_EQ(refused_at, 1001);  // the API limit's burst is 1,000
}

TEST_F(ApiLayerTest, AnIdempotencyKeyIsForTheRouteHoweverItsPathIsSpelt) {
  auto ann = Register("ann");
  std::string token = Str(ann, "access_token");
  HeaderMap key{{"idempotency-key", "k"}};
  auto first =
      Call("POST", "/api/v1/workspaces", R"({"name":"W"})", token, key);
  ASSERT_EQ(first.status, 201);
  for (const char* path :
       {"/api/v1/workspaces/", "//api/v1/workspaces", "/api/v1//workspaces/"}) {
    auto again = Call("POST", path, R"({"name":"W"})", token, key);
    EXPECT_EQ(again.status, 201) << path;
    EXPECT_EQ(again.body, first.body) << path << ": created another";
  }
}

TEST_F(ApiLayerTest, AFullLastPageOfActivityHasNoNextCursor) {
  auto ann = Register("ann");
  std::string token = Str(ann, "access_token");
  auto [ws, docs] = WorkspaceWithDocs(token, {"A"});  // two entries
  auto page = [&](const std::string& query) {
    auto r = Call("GET", "/api/v1/workspaces/" + ws + "/activity?" + query, "",
                  token);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).as_object();
  };
  auto first = page("limit=1");
  ASSERT_EQ(first.at("items").as_array().size(), 1u);
  ASSERT_TRUE(first.at("next_cursor").is_string());
  auto last = page("limit=1&cursor=" + Str(first, "next_cursor"));
  ASSERT_EQ(last.at("items").as_array().size(), 1u);
  EXPECT_TRUE(last.at("next_cursor").is_null()) << "an empty page follows";
  EXPECT_TRUE(page("limit=2").at("next_cursor").is_null());
}

TEST_F(ApiLayerTest, TitleSearchIgnoresCaseBeyondAsciiAndCountsCharacters) {
  std::string token = Str(Register("ann"), "access_token");
  auto [ws, ids] = WorkspaceWithDocs(token, {"Über Plan", "ÉCOLE notes", "x"});
  auto found = [&](const std::string& q) {
    auto r = Call("GET", "/api/v1/workspaces/" + ws + "/documents?q=" + q, "",
                  token);
    EXPECT_EQ(r.status, 200) << r.body;
    auto body = json::parse(r.body);
    return body.at("items").as_array().size();
  };
  EXPECT_EQ(found("%C3%BCber"), 1u);   // über
  EXPECT_EQ(found("%C3%A9cole"), 1u);  // école
  EXPECT_EQ(found("PLAN"), 1u);
  // 200 characters are allowed, also when each takes two bytes.
  std::string cyrillic;
  for (int i = 0; i < 150; ++i) cyrillic += "%D0%96";  // Ж
  EXPECT_EQ(found(cyrillic), 0u);
}

TEST_F(ApiLayerTest, ADeleteWithFieldsInItsBodyIsRefusedAndNotDone) {
  std::string token = Str(Register("ann"), "access_token");
  auto [ws, ids] = WorkspaceWithDocs(token, {"A"});
  auto refused = Call("DELETE", "/api/v1/documents/" + ids[0],
                      R"({"confirm":false})", token);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("unknown_field"), std::string::npos)
      << refused.body;
  EXPECT_FALSE(metadata_.GetDocument(ids[0])->deleted_ms.has_value());
  EXPECT_EQ(Call("DELETE", "/api/v1/workspaces/" + ws, R"({"bogus":1})", token)
                .status,
            400);
  EXPECT_TRUE(metadata_.GetWorkspace(ws).ok());
  // An empty object, or no body, is fine.
  EXPECT_EQ(Call("DELETE", "/api/v1/documents/" + ids[0], "{}", token).status,
            204);
}

TEST_F(ApiLayerTest, TheAuthorizationSchemeIsCaseInsensitive) {
  std::string token = Str(Register("ann"), "access_token");
  for (const char* scheme : {"Bearer ", "bearer ", "BEARER "}) {
    EXPECT_EQ(
        Call("GET", "/api/v1/me", "", "", {{"authorization", scheme + token}})
            .status,
        200)
        << scheme;
  }
  EXPECT_EQ(
      Call("GET", "/api/v1/me", "", "", {{"authorization", "Basic " + token}})
          .status,
      401);
}

TEST_F(ApiLayerTest, IdempotencyKeysAreScopedToTheRoute) {
  auto ann = Register("ann");
  std::string token = Str(ann, "access_token");
  HeaderMap key{{"idempotency-key", "same"}};
  auto ws = Call("POST", "/api/v1/workspaces", R"({"name":"W"})", token, key);
  ASSERT_EQ(ws.status, 201);
  std::string id = Str(json::parse(ws.body).as_object(), "id");
  // The same key on another route is another request, not a replay.
  auto doc = Call("POST", "/api/v1/workspaces/" + id + "/documents",
                  R"({"kind":"text","title":"T"})", token, key);
  EXPECT_EQ(doc.status, 201);
  EXPECT_NE(doc.body, ws.body);
  // A failed request is not stored: fixing the body with the same key works.
  HeaderMap key2{{"idempotency-key", "other"}};
  EXPECT_EQ(
      Call("POST", "/api/v1/workspaces", R"({"name":""})", token, key2).status,
      400);
  EXPECT_EQ(
      Call("POST", "/api/v1/workspaces", R"({"name":"X"})", token, key2).status,
      201);
}

TEST_F(ApiLayerTest, AnInvitationsTokenIsNotStoredForReplays) {
  auto ann = Register("ann");
  std::string token = Str(ann, "access_token");
  auto ws = Call("POST", "/api/v1/workspaces", R"({"name":"W"})", token);
  ASSERT_EQ(ws.status, 201);
  std::string path = "/api/v1/workspaces/" +
                     Str(json::parse(ws.body).as_object(), "id") +
                     "/invitations";
  HeaderMap key{{"idempotency-key", "inv"}};
  std::string body = R"({"email":"bob@example.com","role":"editor"})";
  auto first = Call("POST", path, body, token, key);
  ASSERT_EQ(first.status, 201) << first.body;
  std::string secret = Str(json::parse(first.body).as_object(), "token");
  ASSERT_FALSE(secret.empty());
  auto record = metadata_.GetIdempotencyRecord(
      Str(ann.at("user").as_object(), "id"), path + "#inv");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->response_body.find(secret), std::string::npos);
  // The replay is the same invitation, without its token (it went by mail).
  auto again = Call("POST", path, body, token, key);
  ASSERT_EQ(again.status, 201);
  auto replayed = json::parse(again.body).as_object();
  EXPECT_TRUE(replayed.at("token").is_null());
  EXPECT_TRUE(replayed.at("url").is_null());
  EXPECT_EQ(Str(replayed, "id"),
            Str(json::parse(first.body).as_object(), "id"));
}

TEST_F(ApiLayerTest, AKeyWhoseRequestIsStillRunningIsNotRunAgain) {
  auto ann = Register("ann");
  std::string token = Str(ann, "access_token");
  std::string user = Str(ann.at("user").as_object(), "id");
  HeaderMap key{{"idempotency-key", "k"}};
  auto first =
      Call("POST", "/api/v1/workspaces", R"({"name":"W"})", token, key);
  ASSERT_EQ(first.status, 201);
  // Make it look as if that request were still running: its key is
  // reserved (status 0) until the answer is stored. A concurrent twin
  // used to run the handler too (one more workspace).
  auto record = metadata_.GetIdempotencyRecord(user, "/api/v1/workspaces#k");
  ASSERT_TRUE(record.ok());
  ASSERT_EQ(*metadata_.ExpireIdempotencyRecords(record->created_ms + 1), 1);
  record->status_code = 0;
  record->response_body.clear();
  record->created_ms = NowMs(api_);
  ASSERT_TRUE(metadata_.PutIdempotencyRecord(*record).ok());
  auto twin = Call("POST", "/api/v1/workspaces", R"({"name":"W"})", token, key);
  EXPECT_EQ(twin.status, 409);
  EXPECT_NE(twin.body.find("idempotency_key_in_use"), std::string::npos);
  EXPECT_EQ(metadata_.ListUserMemberships(user)->size(), 1u);
  // A reservation a minute old belongs to a request that never finished
  // (the server stopped): the retry runs.
  clock_.Advance(std::chrono::seconds(61));
  auto retry =
      Call("POST", "/api/v1/workspaces", R"({"name":"W"})", token, key);
  EXPECT_EQ(retry.status, 201);
  EXPECT_EQ(metadata_.ListUserMemberships(user)->size(), 2u);
  auto replay =
      Call("POST", "/api/v1/workspaces", R"({"name":"W"})", token, key);
  EXPECT_EQ(replay.body, retry.body);
}

TEST_F(ApiLayerTest, AHandlerThatThrowsLeavesItsIdempotencyKeyFree) {
  std::string token = Str(Register("ann"), "access_token");
  int runs = 0;
  AddApiRoute(router_, api_,
              {"POST", "/test/flaky", auth::RouteRequirement::SignedIn(),
               ApiScope::kNone, ApiLimit::kPerUser, /*idempotent=*/true},
              [&](ApiContext&, ApiCall&) -> HttpResponse {
                if (++runs == 1) throw std::runtime_error("store went away");
                return JsonResponse(json::object{{"run", runs}}, 201);
              });
  HeaderMap key{{"idempotency-key", "k"}};
  EXPECT_THROW(Call("POST", "/test/flaky", "{}", token, key),
               std::runtime_error);
  // Not held as "in use" for a minute: the retry runs at once.
  auto retry = Call("POST", "/test/flaky", "{}", token, key);
  EXPECT_EQ(retry.status, 201) << retry.body;
  EXPECT_EQ(runs, 2);
}

TEST_F(ApiLayerTest, IdempotencyKeysAreForgottenAfterADay) {
  auto ann = Register("ann");
  std::string token = Str(ann, "access_token");
  HeaderMap key{{"idempotency-key", "k"}};
  ASSERT_EQ(
      Call("POST", "/api/v1/workspaces", R"({"name":"W"})", token, key).status,
      201);
  EXPECT_EQ(
      Call("POST", "/api/v1/workspaces", R"({"name":"W"})", token, key).status,
      201);
  clock_.Advance(std::chrono::hours(25));
  // The access token has expired meanwhile; sign in again.
  auto login =
      Call("POST", "/api/v1/auth/login",
           R"({"email":"ann@example.com","password":"correct horse battery"})");
  ASSERT_EQ(login.status, 200);
  token = Str(json::parse(login.body).as_object(), "access_token");
  auto old = Call("POST", "/api/v1/workspaces", R"({"name":"W"})", token, key);
  EXPECT_EQ(old.status, 409);
  EXPECT_NE(old.body.find("idempotency_key_expired"), std::string::npos);
  // Storing another key sweeps the old one away; the old key is then new.
  HeaderMap other{{"idempotency-key", "other"}};
  ASSERT_EQ(Call("POST", "/api/v1/workspaces", R"({"name":"V"})", token, other)
                .status,
            201);
  EXPECT_RCODE_NOT_FOUND(metadata_.GetIdempotencyRecord(
      Str(ann.at("user").as_object(), "id"), "/api/v1/workspaces#k"));
}

TEST_F(ApiLayerTest, ConcurrentDemotionsKeepAnOwner) {
  auto ann = Register("ann");
  auto bob = Register("bob");
  std::string a = Str(ann, "access_token"), b = Str(bob, "access_token");
  std::string a_id = Str(ann.at("user").as_object(), "id");
  std::string b_id = Str(bob.at("user").as_object(), "id");
  for (int round = 0; round < 100; ++round) {
    std::string id =
        Str(json::parse(
                Call("POST", "/api/v1/workspaces", R"({"name":"W"})", a).body)
                .as_object(),
            "id");
    ASSERT_TRUE(metadata_.AddMember({id, b_id, store::Role::kOwner, 0}).ok());
    std::string base = "/api/v1/workspaces/" + id + "/members/";
    std::thread t1(
        [&] { Call("PATCH", base + b_id, R"({"role":"viewer"})", a); });
    std::thread t2(
        [&] { Call("PATCH", base + a_id, R"({"role":"viewer"})", b); });
    t1.join();
    t2.join();
    auto members = metadata_.ListMembers(id);
    ASSERT_TRUE(members.ok());
    int owners = 0;
    for (const auto& m : *members) owners += m.role == store::Role::kOwner;
    ASSERT_GE(owners, 1) << "round " << round;
  }
}

TEST(ApiHelpersTest, QueryParamDecodes) {
  HttpRequest r;
  r.query = "q=road+trip%21&limit=5&empty=&bad=%zz";
  EXPECT_EQ(QueryParam(r, "q"), "road trip!");
  EXPECT_EQ(QueryParam(r, "limit"), "5");
  EXPECT_EQ(QueryParam(r, "empty"), "");
  EXPECT_EQ(QueryParam(r, "bad"), "%zz");
  EXPECT_EQ(QueryParam(r, "missing"), "");
}

TEST(ApiHelpersTest, FormatTimeIsRfc3339Utc) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTime(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
}

// Until a user's version is stored it is a fingerprint of the password
// hash, exactly as every version was before versions were stored: tokens
// issued then stay valid across the upgrade.
TEST(ApiHelpersTest, TokenVersionIsStoredOrFollowsThePasswordHash) {
  store::User a{"u", "a@example.com", "A", "$argon2id$one", 0};
  EXPECT_EQ(TokenVersion(a), 8272787952760857);
  store::User b = a;
  b.password_hash = "$argon2id$two";
  EXPECT_NE(TokenVersion(a), TokenVersion(b));
  b.token_version = 42;
  EXPECT_EQ(TokenVersion(b), 42);
  b.password_hash = "$argon2id$three";
  EXPECT_EQ(TokenVersion(b), 42) << "a stored version ignores the hash";
  // The next version is the new hash's fingerprint (a restored backup's
  // older version does not lead back to a version used since), never the
  // current one, never 0, and JSON-safe.
  EXPECT_EQ(store::NextTokenVersion(b, "$argon2id$one"), 8272787952760857);
  EXPECT_EQ(store::NextTokenVersion(a, "$argon2id$one"), 8272787952760858);
  b.token_version = 8272787952760857;
  EXPECT_EQ(store::NextTokenVersion(b, "$argon2id$one"), 8272787952760858);
  EXPECT_GT(store::NextTokenVersion(b, "$argon2id$four"), 0);
  EXPECT_LT(store::NextTokenVersion(b, "$argon2id$four"),
            std::int64_t{1} << 53);
}

// A login that rehashes the password (the hashing parameters were raised)
// keeps the user's sessions: the password is the same. A real change
// still ends them.
TEST_F(ApiLayerTest, ARehashKeepsSessionsAndAChangeEndsThem) {
  auto ann = Register("ann");
  std::string old_token = Str(ann, "access_token");
  std::string user_id = Str(ann.at("user").as_object(), "id");
  std::string old_hash = metadata_.GetUser(user_id)->password_hash;
  auto options = auth::PasswordHashOptions::MinimumForTests();
  options.ops_limit += 1;
  auto stronger = auth::PasswordHasher::Create(options);
  ASSERT_TRUE(stronger.ok());
  api_.hasher = &*stronger;
  std::string token = Login("ann");
  ASSERT_NE(metadata_.GetUser(user_id)->password_hash, old_hash)
      << "the login rehashed";
  EXPECT_EQ(Call("GET", "/api/v1/me", "", old_token).status, 200);
  EXPECT_EQ(Call("POST", "/api/v1/auth/refresh",
                 R"({"refresh_token":")" + Str(ann, "refresh_token") + R"("})")
                .status,
            200);
  ASSERT_EQ(Call("POST", "/api/v1/me/password",
                 R"({"current_password":"correct horse battery",)"
                 R"("new_password":"another horse entirely"})",
                 token)
                .status,
            200);
  EXPECT_EQ(Call("GET", "/api/v1/me", "", old_token).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/me", "", token).status, 401);
}

TEST(ApiHelpersTest, RolesMapBothWays) {
  for (auto r :
       {auth::Role::kViewer, auth::Role::kEditor, auth::Role::kOwner}) {
    EXPECT_EQ(ToAuthRole(ToStoreRole(r)), r);
    EXPECT_EQ(store::RoleName(ToStoreRole(r)), auth::RoleName(r));
  }
}

// Deleting a document tells its live sessions even when the members
// cannot be read (then every session is checked): they kept reading and
// writing it until the purge, 30 days later.
TEST_F(ApiLayerTest,
       DeletingADocumentReachesLiveSessionsWhenMembersCannotBeRead) {
  auto ann = Register("ann");
  std::string token = Str(ann, "access_token");
  auto docs = WorkspaceWithDocs(token, {"a"}).second;
  changed_.clear();
  metadata_.fail_list_members = true;
  auto r = Call("DELETE", "/api/v1/documents/" + docs[0], "", token);
  metadata_.fail_list_members = false;
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(changed_, std::vector<std::string>{"*"});
}

// A transfer whose second write fails (503) has made the member owner:
// their live sessions learn it then, not at their next reconnect.
TEST_F(ApiLayerTest, AHalfDoneTransferStillReachesTheNewOwnersSessions) {
  auto ann = Register("ann");
  auto bob = Register("bob");
  std::string at = Str(ann, "access_token");
  std::string ws = WorkspaceWithDocs(at, {"a"}).first;
  ASSERT_EQ(Accept(Invite(ws, "bob@example.com", "viewer", at),
                   Str(bob, "access_token")),
            200);
  std::string bob_id = Str(bob.at("user").as_object(), "id");
  changed_.clear();
  metadata_.fail_second_role = true;
  auto r = Call("POST", "/api/v1/workspaces/" + ws + "/transfer-ownership",
                R"({"user_id":")" + bob_id + R"("})", at);
  metadata_.fail_second_role = false;
  EXPECT_EQ(r.status, 503);
  ASSERT_EQ(metadata_.GetMembership(ws, bob_id)->role, store::Role::kOwner);
  EXPECT_EQ(changed_, std::vector<std::string>{bob_id});
}

}  // namespace
}  // namespace weft::server
