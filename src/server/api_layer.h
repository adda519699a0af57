#pragma once

// The one layer every REST API route goes through. A route declares who may
// call it (an auth::RouteRequirement), what its `{id}` addresses (a
// workspace, a document, or nothing), which rate limit applies and whether
// it honours Idempotency-Key; AddApiRoute() wraps the handler so that, in
// this order:
//   1. the rate limit is taken (per client IP on auth routes, per user
//      elsewhere, per IP for a bad token) -> 429 `rate_limited` with
//      Retry-After, and every answer carries X-RateLimit-Limit/Remaining/
//      Reset;
//   2. a Bearer access token is verified (signature, expiry, and its `ver`
//      against the user's current password) -> 401 `unauthenticated`;
//   3. the membership of the addressed workspace is looked up and
//      auth::Authorize() decides -> 401, 404 `not_found` (non-members and
//      missing ids alike), 403 `forbidden`;
//   4. the JSON body is parsed as one object -> 400 `invalid_json`;
//   5. for idempotent creating POSTs with an Idempotency-Key header, the
//      key is reserved before the handler runs (409 `idempotency_key_in_use`
//      for a twin while it runs; a reservation a minute old is taken for
//      one whose server stopped, and run again); a stored answer is
//      replayed (same body) or refused (409 `idempotency_key_reused`);
//      a 2xx answer is stored for api.idempotency_ttl (a key older than
//      that is 409 `idempotency_key_expired`), anything else frees the key.
// Handlers never compare roles or check credentials themselves.

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authorize.h"
#include "auth/field_errors.h"
#include "common/status.h"
#include "server/api_context.h"
#include "server/router.h"

namespace weft::server {

// What the `{id}` path parameter of a route names.
enum class ApiScope {
  kNone,       // nothing (or a token): no membership lookup
  kWorkspace,  // {id} is a workspace id
  kDocument,   // {id} is a document id; its workspace is the scope. Deleted
               // documents are in scope too (handlers decide).
};

enum class ApiLimit {
  kAuthPerIp,    // the auth routes: per client IP
  kPerUser,      // per signed-in user (anonymous callers and bad tokens:
                 // per IP)
  kAuthPerUser,  // the auth limit, per signed-in user (a route that checks
                 // a password), after the per-IP API limit for bad tokens
};

struct ApiRouteSpec {
  std::string method;
  std::string pattern;
  auth::RouteRequirement requirement;
  ApiScope scope = ApiScope::kNone;
  ApiLimit limit = ApiLimit::kPerUser;
  // Honour Idempotency-Key (POSTs that create something).
  bool idempotent = false;
  // Top-level response fields that hold a secret (an invitation's token
  // and link): the stored copy for Idempotency-Key replays has them as
  // null, so the secret is never at rest in the database.
  std::vector<std::string> secret_fields = {};
};

// Everything the layer established about an authorised call.
struct ApiCall {
  const HttpRequest& request;
  const PathParams& params;
  std::optional<auth::Principal> principal;
  std::optional<store::User> user;  // the principal's user row
  std::optional<auth::Role> role;   // in the addressed workspace
  std::string workspace_id;         // for kWorkspace / kDocument scopes
  std::optional<store::DocumentInfo> document;  // for kDocument scope
  boost::json::object body;  // the parsed body; empty when there is none

  const std::string& user_id() const { return principal->user_id; }
};

using ApiHandler = std::function<HttpResponse(ApiContext&, ApiCall&)>;

// Registers `spec` on `router`, guarded as described above. The
// (method, pattern) pair is also recorded in ApiRouteTable().
void AddApiRoute(Router& router, ApiContext& api, ApiRouteSpec spec,
                 ApiHandler handler);

// Every (method, pattern) registered through AddApiRoute, for the check
// that docs/openapi.yaml describes exactly the routes the code serves.
std::vector<std::pair<std::string, std::string>> ApiRouteTable();

// --- Helpers for handlers ----------------------------------------------------

// 200 (or `status`) with `body` serialized.
HttpResponse JsonResponse(const boost::json::value& body, int status = 200);
HttpResponse NoContent();
// The standard error answer for a non-ok Status: InvalidArgument 400
// `invalid_argument`, NotFound 404 `not_found`, AlreadyExists 409
// `conflict`, PermissionDenied 403 `forbidden`, Unauthenticated 401
// `unauthenticated`, FailedPrecondition 409 `failed_precondition`,
// ResourceExhausted 429, Unavailable 503, everything else 500 `internal`
// (whose message is not shown).
HttpResponse StatusError(const Status& status, const HttpRequest& request);

// Whether the session (refresh-token family) an access token names is
// still open: kUnauthenticated once it was signed out or revoked for reuse
// (its access tokens die with it, not at their expiry), the store's error
// if it cannot tell. Tokens naming no session pass.
Status SessionStillOpen(store::MetadataStore& metadata,
                        std::string_view session_id);
// 429 `rate_limited` with Retry-After and X-RateLimit-* of `refusal` (the
// route's own limit then adds none), for a refusal of a limiter; counts it
// in weft_rate_limited_total{limit=`limit_name`} when api.metrics is set.
HttpResponse RateLimited(const ApiContext& api, const char* limit_name,
                         const auth::RateLimitDecision& refusal,
                         const HttpRequest& request);
// 400 `validation_failed` with {"fields":{"name":"reason"}} as details.
HttpResponse ValidationError(const auth::FieldErrors& errors,
                             const HttpRequest& request);
// A value of the query string ("" when absent), percent-decoded.
std::string QueryParam(const HttpRequest& request, std::string_view name);
// RFC 3339 UTC with milliseconds: "2026-11-22T04:52:19.123Z".
std::string FormatTime(std::int64_t unix_ms);
std::int64_t NowMs(const ApiContext& api);
// A fresh random id (128 bits, URL-safe).
std::string NewId();
// Calls api.on_access_changed(user_id) when set.
void NotifyAccessChanged(const ApiContext& api, const std::string& user_id);
// Calls api.on_access_changed_for_all() when set.
void NotifyAccessChangedForAll(const ApiContext& api);
// The same role in the store's and in auth's vocabulary.
auth::Role ToAuthRole(store::Role role);
store::Role ToStoreRole(auth::Role role);
// The "ver" claim of a user's tokens (store::TokenVersion).
using store::TokenVersion;

}  // namespace weft::server
