// /api/v1/auth/* and /api/v1/me*: register, login, refresh, logout,
// password reset, the caller's profile and password change.
//
// Refresh tokens travel as `<family id>.<wrt_ token>`: the store keeps one
// row per family holding the hash of its current token, looked up by the
// family id. Password-reset tokens are signed (api.reset_tokens, one hour)
// and carry the user's token version (store::TokenVersion): once the
// password has changed the token no longer matches, so it is good for one
// use without a stored row.
#include <boost/json/object.hpp>

#include "auth/email_address.h"
#include "auth/json_body.h"
#include "auth/mail_templates.h"
#include "auth/opaque_token.h"
#include "auth/password_policy.h"
#include "auth/single_use_token.h"
#include "server/api_error.h"
#include "server/api_layer.h"
#include "server/api_routes.h"

namespace weft::server {
namespace {

namespace json = boost::json;
using auth::RouteRequirement;

constexpr auth::StringRule kDisplayName{1, 100, true, false, true};
// Passwords are checked by CheckPasswordPolicy, not by length rules here.
constexpr auth::StringRule kPasswordField{0, 100000, false, true};

std::int64_t ToMs(auth::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             t.time_since_epoch())
      .count();
}

json::object UserJson(const store::User& user) {
  return {{"id", user.id},
          {"email", user.email},
          {"display_name", user.display_name}};
}

// Reads a password field: the string, or a reason in `errors`.
std::string PasswordField(const json::object& body, std::string_view field,
                          auth::FieldErrors& errors) {
  const json::value* v = body.if_contains(field);
  if (v == nullptr) {
    errors.Add(field, "required");
    return "";
  }
  if (!v->is_string()) {
    errors.Add(field, "must_be_string");
    return "";
  }
  return std::string(v->as_string());
}

// "<family>.<token>", sealed ("<family>.<token>.<seal>") when the server
// has a seal key.
std::string RefreshTokenWire(const ApiContext& api,
                             const std::string& family_id,
                             const std::string& token) {
  std::string wire = family_id + "." + token;
  if (api.refresh_seal != nullptr) {
    wire += "." + api.refresh_seal->Seal(family_id, token);
  }
  return wire;
}

// Starts a session (a refresh family) for `user`: the answer of register,
// login and password change.
HttpResponse NewSession(ApiContext& api, const store::User& user,
                        const HttpRequest& request, int status) {
  auto now = api.clock->Now();
  auto family = api.refresh_policy.StartFamily(now);
  auto token = auth::IssueOpaqueToken(auth::TokenPurpose::kRefresh);
  store::RefreshTokenFamily row;
  row.id = NewId();
  row.user_id = user.id;
  row.token_hash = token.hash;
  row.created_ms = ToMs(now);
  row.expires_ms = ToMs(family.token_expires_at);
  // The password this login proved: a refresh answers only while it is
  // still the user's, so a login that raced a password change or reset
  // gets nothing from its family afterwards.
  row.token_version = TokenVersion(user);
  if (Status s = api.metadata->CreateRefreshFamily(row); !s.ok()) {
    return StatusError(s, request);
  }
  auto claims =
      api.access_tokens->NewClaims(user.id, row.id, TokenVersion(user), now);
  return JsonResponse(
      json::object{
          {"user", UserJson(user)},
          {"access_token", api.access_tokens->Sign(claims)},
          {"refresh_token", RefreshTokenWire(api, row.id, token.token)},
          {"expires_in", api.access_tokens->options().lifetime.count()}},
      status);
}

// The login_limiter's key for password checks of `normalized_email`.
std::string LoginAccountKey(std::string_view normalized_email) {
  return "account:" + std::string(normalized_email);
}

// Password guesses at one account, spread over many IPs or made with a
// stolen session: every check of a password takes a token of the
// account's bucket and a successful one gives it back (Refund), so only
// failures count. nullopt, or the 429 answer.
std::optional<HttpResponse> TakeAccountAttempt(ApiContext& api,
                                               const std::string& key,
                                               const HttpRequest& request) {
  auto attempt = api.login_limiter->Take(key, api.clock->Now());
  if (attempt.allowed) return std::nullopt;
  return RateLimited(api, "login_per_account", attempt, request);
}

HttpResponse InvalidCredentials(const HttpRequest& request) {
  return ErrorResponse(401, "invalid_credentials",
                       "the email or the password is wrong",
                       request.request_id);
}

HttpResponse SessionEnded(const HttpRequest& request) {
  return ErrorResponse(401, "invalid_refresh_token",
                       "the session has ended; sign in again",
                       request.request_id);
}

// A refresh token as presented: its family, the hash of its token, and
// whether it carries this server's seal (so it was issued by it).
struct PresentedRefreshToken {
  std::string family_id;
  std::string hash;
  bool sealed = false;
};

// Splits "<family>.<token>[.<seal>]"; nullopt when malformed. A seal that
// does not verify (another key, or forged) makes the token unsealed, not
// malformed: tokens issued before the seal existed, or under another
// secret, stay usable while they are current.
std::optional<PresentedRefreshToken> SplitRefreshToken(const ApiContext& api,
                                                       std::string_view wire) {
  auto dot = wire.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 64) {
    return std::nullopt;
  }
  std::string_view family = wire.substr(0, dot);
  std::string_view token = wire.substr(dot + 1);
  std::string_view seal;
  if (auto second = token.find('.'); second != std::string_view::npos) {
    seal = token.substr(second + 1);
    token = token.substr(0, second);
  }
  auto hash = auth::HashOpaqueToken(auth::TokenPurpose::kRefresh, token);
  if (!hash.ok()) return std::nullopt;
  bool sealed = api.refresh_seal != nullptr && !seal.empty() &&
                api.refresh_seal->Valid(family, token, seal);
  return PresentedRefreshToken{std::string(family), *hash, sealed};
}

HttpResponse Register(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string email = v.RequiredEmail("email");
  std::string name = v.RequiredString("display_name", kDisplayName);
  v.Allow("password");
  auth::FieldErrors errors = v.Finish();
  std::string password = PasswordField(call.body, "password", errors);
  if (errors.ReasonFor("password").empty()) {
    errors.Merge(auth::CheckPasswordPolicy(password, {email, name}));
  }
  if (!errors.empty()) return ValidationError(errors, call.request);
  auto hash = api.hasher->Hash(password);
  if (!hash.ok()) return StatusError(hash.status(), call.request);
  store::User user{NewId(), email, name, *hash, NowMs(api)};
  if (Status s = api.metadata->CreateUser(user); !s.ok()) {
    if (s.code() == StatusCode::kAlreadyExists) {
      auth::FieldErrors taken;
      taken.Add("email", "taken");
      return ErrorResponse(
          409, "email_taken", "an account with this email exists; sign in",
          call.request.request_id, {{"fields", taken.ToJson()}});
    }
    return StatusError(s, call.request);
  }
  return NewSession(api, user, call.request, 201);
}

HttpResponse Login(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string email = v.RequiredString("email", {1, 254});
  v.Allow("password");
  auth::FieldErrors errors = v.Finish();
  std::string password = PasswordField(call.body, "password", errors);
  if (!errors.empty()) return ValidationError(errors, call.request);
  std::string normalized = auth::NormalizeEmail(email);
  // Addresses without an account are limited alike (the answer tells
  // nothing about which exist).
  const std::string account_key = LoginAccountKey(normalized);
  if (auto refused = TakeAccountAttempt(api, account_key, call.request)) {
    return *refused;
  }
  auto user = api.metadata->GetUserByEmail(normalized);
  if (!user.ok()) {
    if (user.status().code() != StatusCode::kNotFound) {
      api.login_limiter->Refund(account_key, api.clock->Now());
      return StatusError(user.status(), call.request);
    }
    api.hasher->VerifyDummy(password);  // same time as a wrong password
    return InvalidCredentials(call.request);
  }
  auto match = api.hasher->Verify(password, user->password_hash);
  if (!match.ok() || *match == auth::PasswordMatch::kMismatch) {
    return InvalidCredentials(call.request);
  }
  api.login_limiter->Refund(account_key, api.clock->Now());
  if (*match == auth::PasswordMatch::kMatchNeedsRehash) {
    if (auto rehashed = api.hasher->Hash(password); rehashed.ok()) {
      // Only over the hash just verified: a change made meanwhile wins.
      if (api.metadata
              ->SetPasswordHash(user->id, user->password_hash, *rehashed,
                                TokenVersion(*user))
              .ok()) {
        // The same password: its sessions stay (the version is kept).
        user->token_version = TokenVersion(*user);
        user->password_hash = *rehashed;
      }
    }
  }
  return NewSession(api, *user, call.request, 200);
}

HttpResponse Refresh(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string wire = v.RequiredString("refresh_token", {1, 200});
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  auto parts = SplitRefreshToken(api, wire);
  if (!parts) return SessionEnded(call.request);
  const auto& [family_id, hash, sealed] = *parts;
  auto family = api.metadata->GetRefreshFamily(family_id);
  if (!family.ok()) {
    if (family.status().code() == StatusCode::kNotFound) {
      return SessionEnded(call.request);
    }
    return StatusError(family.status(), call.request);
  }
  if (family->revoked) return SessionEnded(call.request);
  auto now = api.clock->Now();
  std::int64_t now_ms = ToMs(now);
  // Reuse is checked before expiry: a stale copy is a stolen token. Any
  // token this family was issued counts as reuse — the one the current
  // one replaced (the store knows its hash) or an older one (it carries
  // our seal: a thief who refreshed twice leaves the victim's token two
  // rotations behind). Any other (never issued, say, made by someone who
  // read the family id in an access token) is refused without ending the
  // session.
  if (family->token_hash != hash) {
    if (sealed ||
        (!family->prev_token_hash.empty() && family->prev_token_hash == hash)) {
      // Its access tokens die with it: live sync sessions re-check now.
      if (api.metadata->RevokeRefreshFamily(family_id).ok()) {
        NotifyAccessChanged(api, family->user_id);
      }
    }
    return SessionEnded(call.request);
  }
  std::int64_t family_end_ms =
      family->created_ms +
      std::chrono::duration_cast<std::chrono::milliseconds>(
          api.refresh_policy.options().session_lifetime)
          .count();
  if (now_ms >= family->expires_ms || now_ms >= family_end_ms) {
    return SessionEnded(call.request);
  }
  std::int64_t next_ms =
      std::min(family_end_ms,
               now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(
                            api.refresh_policy.options().token_lifetime)
                            .count());
  // The user is read before the rotation: once it commits, the new token
  // must reach the client, or the client, retrying with the token just
  // replaced, would be taken for a thief and signed out. A password change
  // that comes after this read revokes the family (the rotation below then
  // fails, or the family dies after it), and the access token below, of
  // the family's version, dies with the old password.
  auto user = api.metadata->GetUser(family->user_id);
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kNotFound) {
      return SessionEnded(call.request);
    }
    return StatusError(user.status(), call.request);
  }
  if (TokenVersion(*user) != family->token_version) {
    (void)api.metadata->RevokeRefreshFamily(family_id);
    return SessionEnded(call.request);
  }
  auto token = auth::IssueOpaqueToken(auth::TokenPurpose::kRefresh);
  auto rotated =
      api.metadata->RotateRefreshToken(family_id, hash, token.hash, next_ms);
  if (!rotated.ok()) {
    switch (rotated.status().code()) {
      // kAborted: a concurrent refresh won with the same token, i.e.
      // reuse (the store has revoked the family); the others: the family
      // ended or the token was superseded meanwhile.
      case StatusCode::kAborted:
        NotifyAccessChanged(api, family->user_id);
        return SessionEnded(call.request);
      case StatusCode::kPermissionDenied:
      case StatusCode::kNotFound:
      case StatusCode::kFailedPrecondition:
        return SessionEnded(call.request);
      default:  // the store failed: the session may well be alive
        return StatusError(rotated.status(), call.request);
    }
  }
  auto claims = api.access_tokens->NewClaims(user->id, family_id,
                                             family->token_version, now);
  return JsonResponse(json::object{
      {"user", UserJson(*user)},
      {"access_token", api.access_tokens->Sign(claims)},
      {"refresh_token", RefreshTokenWire(api, family_id, token.token)},
      {"expires_in", api.access_tokens->options().lifetime.count()}});
}

HttpResponse Logout(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string wire = v.RequiredString("refresh_token", {1, 200});
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  // Only the holder of the current token may end the session; anything
  // else is answered the same, so logout cannot probe tokens.
  if (auto parts = SplitRefreshToken(api, wire)) {
    auto family = api.metadata->GetRefreshFamily(parts->family_id);
    if (family.ok() && family->token_hash == parts->hash) {
      if (Status s = api.metadata->RevokeRefreshFamily(parts->family_id);
          !s.ok()) {
        return StatusError(s, call.request);
      }
      // The session's access tokens end with it, live sync sessions too.
      NotifyAccessChanged(api, family->user_id);
    }
  }
  return NoContent();
}

HttpResponse ResetRequest(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string email = v.RequiredEmail("email");
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  // The same answer whether or not the account exists.
  HttpResponse accepted =
      JsonResponse(json::object{{"status",
                                 "if an account has this email, a reset link "
                                 "was sent to it"}},
                   202);
  auto user = api.metadata->GetUserByEmail(email);
  if (!user.ok()) return accepted;
  if (api.reset_mail_limiter != nullptr &&
      !api.reset_mail_limiter->Take("reset:" + user->id, api.clock->Now())
           .allowed) {
    return accepted;  // enough links are on their way
  }
  auto claims = api.reset_tokens->NewClaims(user->id, "", TokenVersion(*user),
                                            api.clock->Now());
  std::string url = api.public_base_url +
                    "/reset-password?token=" + api.reset_tokens->Sign(claims);
  // Failures (queue full) are not shown: the answer must not differ.
  (void)api.mailer->Send(auth::PasswordResetMail(
      user->email, url, api.reset_tokens->options().lifetime));
  return accepted;
}

// Stores `password` as the user's new one and ends every session: the
// refresh families, and the live sync sessions (their access tokens carry
// the old version).
Status ReplacePassword(ApiContext& api, store::User& user,
                       std::string_view password) {
  auto hash = api.hasher->Hash(password);
  if (!hash.ok()) return hash.status();
  // Over the hash the caller's check read: of two changes or resets that
  // read the same one, the second fails (kFailedPrecondition).
  const std::int64_t version = store::NextTokenVersion(user, *hash);
  if (Status s = api.metadata->SetPasswordHash(user.id, user.password_hash,
                                               *hash, version);
      !s.ok()) {
    return s;
  }
  user.password_hash = *hash;
  user.token_version = version;
  // Best effort: the password is replaced whatever happens now, and a
  // family the revoke missed ends at its next refresh anyway (its version
  // is the old password's). Failing here would tell the user a change
  // that happened did not (and spend a reset link for nothing).
  (void)api.metadata->RevokeUserRefreshFamilies(user.id);
  NotifyAccessChanged(api, user.id);
  return Status::Ok();
}

HttpResponse ResetConfirm(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string token = v.RequiredString("token", {1, 4096});
  v.Allow("new_password");
  auth::FieldErrors errors = v.Finish();
  std::string password = PasswordField(call.body, "new_password", errors);
  if (!errors.empty()) return ValidationError(errors, call.request);
  auto invalid = [&] {
    return ErrorResponse(400, "invalid_token",
                         "the reset link is invalid, used or expired; ask "
                         "for a new one",
                         call.request.request_id);
  };
  auto claims = api.reset_tokens->Verify(token, api.clock->Now());
  if (!claims.ok()) return invalid();
  auto user = api.metadata->GetUser(claims->subject);
  if (!user.ok() || claims->version != TokenVersion(*user)) return invalid();
  errors.Merge(auth::CheckPasswordPolicy(
      password, {user->email, user->display_name}, "new_password"));
  if (!errors.empty()) return ValidationError(errors, call.request);
  if (Status s = ReplacePassword(api, *user, password); !s.ok()) {
    // Used meanwhile by a concurrent confirm with the same link.
    if (s.code() == StatusCode::kFailedPrecondition) return invalid();
    return StatusError(s, call.request);
  }
  // The owner, who has just proved the mailbox, is signed in at once: a
  // sign-in with the new password could be refused by whoever keeps the
  // account's bucket empty by failing on purpose (which the bucket, filled
  // again here, only slows down).
  api.login_limiter->Refund(LoginAccountKey(user->email), api.clock->Now(),
                            api.login_limiter->options().capacity);
  HttpResponse session = NewSession(api, *user, call.request, 200);
  // The link is spent and the password replaced whatever happens now: a
  // session that could not be started is no failure of the reset (204:
  // sign in with the new password), or a retry would be told the link is
  // invalid.
  return session.status == 200 ? session : NoContent();
}

HttpResponse GetMe(ApiContext&, ApiCall& call) {
  return JsonResponse(UserJson(*call.user));
}

HttpResponse PatchMe(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string name = v.RequiredString("display_name", kDisplayName);
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  if (Status s = api.metadata->SetDisplayName(call.user_id(), name); !s.ok()) {
    return StatusError(s, call.request);
  }
  call.user->display_name = name;
  return JsonResponse(UserJson(*call.user));
}

HttpResponse ChangePassword(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  v.Allow("current_password");
  v.Allow("new_password");
  auth::FieldErrors errors = v.Finish();
  std::string current = PasswordField(call.body, "current_password", errors);
  std::string next = PasswordField(call.body, "new_password", errors);
  if (errors.ReasonFor("new_password").empty()) {
    errors.Merge(auth::CheckPasswordPolicy(
        next, {call.user->email, call.user->display_name}, "new_password"));
  }
  if (!errors.empty()) return ValidationError(errors, call.request);
  // Counted with the account's sign-ins: a stolen session guesses no
  // faster than anyone else.
  const std::string account_key = LoginAccountKey(call.user->email);
  if (auto refused = TakeAccountAttempt(api, account_key, call.request)) {
    return *refused;
  }
  auto match = api.hasher->Verify(current, call.user->password_hash);
  if (!match.ok() || *match == auth::PasswordMatch::kMismatch) {
    auth::FieldErrors wrong;
    wrong.Add("current_password", "incorrect");
    return ErrorResponse(403, "invalid_credentials",
                         "the current password is wrong",
                         call.request.request_id, {{"fields", wrong.ToJson()}});
  }
  api.login_limiter->Refund(account_key, api.clock->Now());
  if (Status s = ReplacePassword(api, *call.user, next); !s.ok()) {
    // Changed or reset meanwhile (another session, a reset link): this
    // session's token is stale by now.
    if (s.code() == StatusCode::kFailedPrecondition) {
      return ErrorResponse(401, "unauthenticated",
                           "the password was changed meanwhile; sign in again",
                           call.request.request_id);
    }
    return StatusError(s, call.request);
  }
  return NewSession(api, *call.user, call.request, 200);
}

}  // namespace

void AddAccountRoutes(Router& router, ApiContext& api) {
  auto anyone = RouteRequirement::Anyone();
  auto signed_in = RouteRequirement::SignedIn();
  auto auth_route = [&](std::string pattern, ApiHandler handler) {
    AddApiRoute(router, api,
                {"POST", std::move(pattern), anyone, ApiScope::kNone,
                 ApiLimit::kAuthPerIp, false},
                std::move(handler));
  };
  auth_route("/api/v1/auth/register", Register);
  auth_route("/api/v1/auth/login", Login);
  auth_route("/api/v1/auth/refresh", Refresh);
  auth_route("/api/v1/auth/logout", Logout);
  auth_route("/api/v1/auth/password-reset/request", ResetRequest);
  auth_route("/api/v1/auth/password-reset/confirm", ResetConfirm);
  AddApiRoute(router, api, {"GET", "/api/v1/me", signed_in}, GetMe);
  AddApiRoute(router, api, {"PATCH", "/api/v1/me", signed_in}, PatchMe);
  // Checks a password (a guess each time, and an argon2 hash or two):
  // limited like the auth routes, but per user.
  AddApiRoute(router, api,
              {"POST", "/api/v1/me/password", signed_in, ApiScope::kNone,
               ApiLimit::kAuthPerUser},
              ChangePassword);
}

}  // namespace weft::server
