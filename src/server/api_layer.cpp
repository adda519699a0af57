#include "server/api_layer.h"

#include "common/fnv1a.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>

#include "auth/json_body.h"
#include "auth/opaque_token.h"
#include "server/api_error.h"

namespace weft::server {
namespace {

std::mutex route_table_mu;
std::vector<std::pair<std::string, std::string>>& RouteTable() {
  static auto* table = new std::vector<std::pair<std::string, std::string>>();
  return *table;
}

// The key of a caller's address in per-IP limits, from the server's
// "address:port": "1.2.3.4:5678" -> "1.2.3.4"; an IPv6 address (written
// as Asio does, "2001:db8::1:5678", or in brackets) by its /64,
// "[2001:db8::]/64", since one host commonly holds a whole /64 and would
// otherwise get a bucket per address. A zone (fe80::1%eth0) is dropped.
std::string ClientIp(const HttpRequest& request) {
  auto colon = request.remote.rfind(':');
  std::string ip = colon == std::string::npos ? request.remote
                                              : request.remote.substr(0, colon);
  std::string inner = ip;
  if (inner.size() > 2 && inner.front() == '[' && inner.back() == ']') {
    inner = inner.substr(1, inner.size() - 2);
  }
  if (auto zone = inner.find('%'); zone != std::string::npos) {
    inner.resize(zone);
  }
  if (inner.find(':') != std::string::npos) {
    in6_addr a{};
    if (inet_pton(AF_INET6, inner.c_str(), &a) == 1 &&
        !IN6_IS_ADDR_V4MAPPED(&a)) {
      std::memset(a.s6_addr + 8, 0, 8);
      char text[INET6_ADDRSTRLEN] = {};
      if (inet_ntop(AF_INET6, &a, text, sizeof(text)) != nullptr) {
        return "[" + std::string(text) + "]/64";
      }
    }
  }
  return ip;
}

void AddRateHeaders(HttpResponse& response,
                    const auth::RateLimitDecision& decision) {
  response.headers.emplace_back("X-RateLimit-Limit",
                                std::to_string(decision.limit));
  response.headers.emplace_back("X-RateLimit-Remaining",
                                std::to_string(decision.remaining));
  response.headers.emplace_back("X-RateLimit-Reset",
                                std::to_string(decision.reset_seconds));
}

HttpResponse Unauthenticated(const HttpRequest& request,
                             std::string_view message) {
  HttpResponse r =
      ErrorResponse(401, "unauthenticated", message, request.request_id);
  r.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  return r;
}

// Verifies the bearer token: the principal and their user row, or a 401.
std::optional<HttpResponse> Authenticate(ApiContext& api, ApiCall& call) {
  std::string header = call.request.Header("authorization");
  if (header.empty()) return std::nullopt;  // anonymous
  // The scheme is case-insensitive (RFC 9110 §11.1).
  constexpr std::string_view kBearer = "bearer ";
  bool bearer = header.size() > kBearer.size();
  for (std::size_t i = 0; bearer && i < kBearer.size(); ++i) {
    bearer = std::tolower(static_cast<unsigned char>(header[i])) == kBearer[i];
  }
  if (!bearer) {
    return Unauthenticated(call.request,
                           "the Authorization header must be 'Bearer <token>'");
  }
  auth::AccessTokenError why{};
  auto claims = api.access_tokens->Verify(
      std::string_view(header).substr(kBearer.size()), api.clock->Now(), &why);
  if (!claims.ok()) {
    return Unauthenticated(call.request,
                           "the access token is not valid (" +
                               std::string(auth::AccessTokenErrorName(why)) +
                               "); sign in again or refresh it");
  }
  auto user = api.metadata->GetUser(claims->subject);
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kNotFound) {
      return Unauthenticated(call.request, "the account no longer exists");
    }
    return StatusError(user.status(), call.request);
  }
  if (claims->version != TokenVersion(*user)) {
    return Unauthenticated(call.request,
                           "the session ended (the password was changed); "
                           "sign in again");
  }
  if (Status s = SessionStillOpen(*api.metadata, claims->session_id); !s.ok()) {
    if (s.code() == StatusCode::kUnauthenticated) {
      return Unauthenticated(call.request, s.message());
    }
    return StatusError(s, call.request);
  }
  call.principal = auth::Principal{user->id, claims->session_id};
  call.user = std::move(*user);
  return std::nullopt;
}

// Looks up the principal's role in the addressed workspace.
std::optional<HttpResponse> LookUpScope(ApiContext& api, ApiScope scope,
                                        ApiCall& call) {
  auto id = call.params.find("id");
  if (scope == ApiScope::kNone || id == call.params.end()) return std::nullopt;
  if (scope == ApiScope::kDocument) {
    auto document = api.metadata->GetDocument(id->second);
    if (!document.ok()) {
      if (document.status().code() == StatusCode::kNotFound) {
        return std::nullopt;  // role stays empty: Authorize answers 404
      }
      return StatusError(document.status(), call.request);
    }
    call.workspace_id = document->workspace_id;
    call.document = std::move(*document);
  } else {
    call.workspace_id = id->second;
  }
  if (!call.principal) return std::nullopt;
  auto membership =
      api.metadata->GetMembership(call.workspace_id, call.principal->user_id);
  if (membership.ok()) {
    call.role = ToAuthRole(membership->role);
  } else if (membership.status().code() != StatusCode::kNotFound) {
    return StatusError(membership.status(), call.request);
  }
  return std::nullopt;
}

// A reservation older than this is taken for one whose request never
// finished (the server stopped while running it).
constexpr std::int64_t kAbandonedReservationMs = 60'000;

HttpResponse RunIdempotent(ApiContext& api, ApiCall& call,
                           const ApiHandler& handler,
                           const std::vector<std::string>& secret_fields) {
  std::string key = call.request.Header("idempotency-key");
  if (key.empty() || !call.principal) return handler(api, call);
  if (key.size() > 255) {
    return ErrorResponse(400, "invalid_idempotency_key",
                         "Idempotency-Key must be 1 to 255 characters",
                         call.request.request_id);
  }
  // The path as the router sees it (empty segments dropped), so that
  // "/api/v1/workspaces/" and "//api/v1/workspaces" are one request.
  std::string path;
  for (std::string_view rest = call.request.path; !rest.empty();) {
    std::size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (!segment.empty()) path.append("/").append(segment);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  char hash[17];
  std::snprintf(
      hash, sizeof(hash), "%016llx",
      static_cast<unsigned long long>(
          Fnv1a(call.request.method + " " + path + "\n" + call.request.body)));
  // Scope the key to the route so one key cannot replay another route.
  std::string stored_key = path + "#" + key;
  const std::string& user = call.principal->user_id;
  const std::int64_t now = NowMs(api);
  const std::int64_t ttl_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(api.idempotency_ttl)
          .count();
  // The key is reserved (a record with status 0) before the handler runs,
  // so that concurrent twins do not both run it: the one whose reservation
  // is taken first runs, the others are told to retry.
  store::IdempotencyRecord record;
  record.user_id = user;
  record.key = stored_key;
  record.request_hash = hash;
  record.status_code = 0;
  record.created_ms = now;
  auto in_use = [&] {
    return ErrorResponse(409, "idempotency_key_in_use",
                         "a request with this Idempotency-Key is still "
                         "running; retry shortly",
                         call.request.request_id);
  };
  for (int attempt = 0;; ++attempt) {
    Status reserved = api.metadata->PutIdempotencyRecord(record);
    if (reserved.ok()) break;
    if (reserved.code() != StatusCode::kAlreadyExists) {
      return StatusError(reserved, call.request);
    }
    // Taken again after we found it gone or released it: a twin got it.
    if (attempt > 0) return in_use();
    auto previous = api.metadata->GetIdempotencyRecord(user, stored_key);
    if (previous.status().code() == StatusCode::kNotFound) continue;  // gone
    if (!previous.ok()) return StatusError(previous.status(), call.request);
    if (previous->request_hash != hash) {
      return ErrorResponse(409, "idempotency_key_reused",
                           "this Idempotency-Key was used with another "
                           "request body; use a new key",
                           call.request.request_id);
    }
    if (previous->status_code == 0) {
      if (previous->created_ms >= now - kAbandonedReservationMs) {
        return in_use();
      }
      // Its request never finished (the server stopped): run it again.
      // Released only as that reservation, so of two takers one wins.
      if (!api.metadata
               ->ReleaseIdempotencyReservation(user, stored_key,
                                               previous->created_ms)
               .ok()) {
        return in_use();
      }
      continue;
    }
    if (previous->created_ms < now - ttl_ms) {
      // Too old to replay; the sweep below will drop it. Refuse rather
      // than run twice under one key.
      return ErrorResponse(409, "idempotency_key_expired",
                           "this Idempotency-Key is too old to replay; use a "
                           "new key",
                           call.request.request_id);
    }
    HttpResponse replay;
    replay.status = previous->status_code;
    replay.body = previous->response_body;
    replay.headers.emplace_back("Idempotent-Replayed", "true");
    return replay;
  }
  // Released unless the answer is stored: a failed answer (or a handler
  // that throws) leaves the key free, so a fixed request with it runs.
  struct Reservation {
    ApiContext& api;
    const std::string& user;
    const std::string& key;
    std::int64_t created_ms;
    bool held = true;
    ~Reservation() {
      if (held) {
        (void)api.metadata->ReleaseIdempotencyReservation(user, key,
                                                          created_ms);
      }
    }
  } reservation{api, user, stored_key, now};
  HttpResponse response = handler(api, call);
  if (response.status < 200 || response.status >= 300) return response;
  reservation.held = false;
  std::string stored_body = response.body;
  if (!secret_fields.empty()) {
    boost::system::error_code ec;
    boost::json::value body = boost::json::parse(response.body, ec);
    if (!ec && body.is_object()) {
      for (const auto& field : secret_fields) {
        if (body.as_object().contains(field)) body.as_object()[field] = nullptr;
      }
      stored_body = boost::json::serialize(body);
    }
  }
  (void)api.metadata->FinishIdempotencyRecord(user, stored_key, response.status,
                                              stored_body);
  // Forget keys past their time (an indexed delete, cheap next to the
  // writes above).
  (void)api.metadata->ExpireIdempotencyRecords(now - ttl_ms);
  return response;
}

// The weft_rate_limited_total label of a route's limit.
const char* LimitName(ApiLimit limit) {
  switch (limit) {
    case ApiLimit::kAuthPerIp:
      return "auth_per_ip";
    case ApiLimit::kAuthPerUser:
      return "auth_per_user";
    case ApiLimit::kPerUser:
      break;
  }
  return "api_per_user";
}

HttpResponse Guarded(ApiContext& api, const ApiRouteSpec& spec,
                     const ApiHandler& handler, const HttpRequest& request,
                     const PathParams& params) {
  ApiCall call{request,      params, std::nullopt, std::nullopt,
               std::nullopt, "",     std::nullopt, {}};
  std::optional<auth::RateLimitDecision> limit;
  auto take = [&](auth::TokenBucketLimiter* limiter,
                  const std::string& key) -> std::optional<HttpResponse> {
    limit = limiter->Take(key, api.clock->Now());
    if (limit->allowed) return std::nullopt;
    return RateLimited(api, LimitName(spec.limit), *limit, request);
  };
  auto answer = [&]() -> HttpResponse {
    if (spec.limit == ApiLimit::kAuthPerIp) {
      if (auto refused = take(api.auth_limiter, "ip:" + ClientIp(request))) {
        return *refused;
      }
    }
    if (spec.requirement.audience != auth::Audience::kAnyone) {
      if (auto failed = Authenticate(api, call)) {
        // A bad token is limited like an anonymous caller: per IP.
        if (spec.limit != ApiLimit::kAuthPerIp) {
          if (auto refused = take(api.api_limiter, "ip:" + ClientIp(request))) {
            return *refused;
          }
        }
        return *failed;
      }
    }
    if (spec.limit == ApiLimit::kPerUser) {
      std::string key = call.principal ? "user:" + call.principal->user_id
                                       : "ip:" + ClientIp(request);
      if (auto refused = take(api.api_limiter, key)) return *refused;
    }
    // Per user (password guesses through a signed-in route); a caller
    // without a token has no user and is answered 401 below, limited per
    // IP like any anonymous call.
    if (spec.limit == ApiLimit::kAuthPerUser) {
      auto refused =
          call.principal
              ? take(api.auth_limiter, "user:" + call.principal->user_id)
              : take(api.api_limiter, "ip:" + ClientIp(request));
      if (refused) return *refused;
    }
    if (auto failed = LookUpScope(api, spec.scope, call)) return *failed;
    Status allowed =
        auth::Authorize(spec.requirement, call.principal, call.role);
    if (!allowed.ok()) {
      switch (allowed.code()) {
        case StatusCode::kUnauthenticated:
          return Unauthenticated(request, "sign in to use this route");
        case StatusCode::kNotFound:
          return ErrorResponse(404, "not_found", "no such resource",
                               request.request_id);
        default:
          return ErrorResponse(403, "forbidden",
                               "your role in this workspace does not allow "
                               "this",
                               request.request_id);
      }
    }
    if (!request.body.empty()) {
      auto body = auth::ParseJsonObjectBody(request.body);
      if (!body.ok()) {
        return ErrorResponse(
            400, "invalid_json",
            "the body must be one JSON object: " + body.status().message(),
            request.request_id);
      }
      call.body = std::move(*body);
    }
    if (spec.method == "DELETE") {
      // No DELETE takes a body: any field in one is unknown (a client
      // that sends {"confirm":false} must not see the delete done).
      auth::JsonBodyValidator none(call.body);
      if (auto errors = none.Finish(); !errors.empty()) {
        return ValidationError(errors, request);
      }
    }
    if (spec.idempotent) {
      return RunIdempotent(api, call, handler, spec.secret_fields);
    }
    return handler(api, call);
  };
  HttpResponse response = answer();
  // A handler's own limit (RateLimited) describes itself.
  bool described = false;
  for (const auto& [name, value] : response.headers) {
    described = described || name == "X-RateLimit-Limit";
  }
  if (limit && !described) AddRateHeaders(response, *limit);
  return response;
}

}  // namespace

Status SessionStillOpen(store::MetadataStore& metadata,
                        std::string_view session_id) {
  if (session_id.empty()) return Status::Ok();
  auto family = metadata.GetRefreshFamily(session_id);
  if (!family.ok()) {
    if (family.status().code() == StatusCode::kNotFound) {
      return Status::Unauthenticated("the session ended; sign in again");
    }
    return family.status();
  }
  if (family->revoked) {
    return Status::Unauthenticated(
        "the session ended (signed out, or its refresh token was used "
        "twice); sign in again");
  }
  return Status::Ok();
}

void AddApiRoute(Router& router, ApiContext& api, ApiRouteSpec spec,
                 ApiHandler handler) {
  {
    std::lock_guard lock(route_table_mu);
    RouteTable().emplace_back(spec.method, spec.pattern);
  }
  std::string method = spec.method;
  std::string pattern = spec.pattern;
  router.Add(std::move(method), pattern,
             [&api, spec = std::move(spec), handler = std::move(handler)](
                 const HttpRequest& request, const PathParams& params) {
               return Guarded(api, spec, handler, request, params);
             });
}

std::vector<std::pair<std::string, std::string>> ApiRouteTable() {
  std::lock_guard lock(route_table_mu);
  return RouteTable();
}

HttpResponse JsonResponse(const boost::json::value& body, int status) {
  HttpResponse r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

HttpResponse StatusError(const Status& status, const HttpRequest& request) {
  const std::string& id = request.request_id;
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return ErrorResponse(400, "invalid_argument", status.message(), id);
    case StatusCode::kNotFound:
      return ErrorResponse(404, "not_found", status.message(), id);
    case StatusCode::kAlreadyExists:
      return ErrorResponse(409, "conflict", status.message(), id);
    case StatusCode::kPermissionDenied:
      return ErrorResponse(403, "forbidden", status.message(), id);
    case StatusCode::kUnauthenticated:
      return Unauthenticated(request, status.message());
    case StatusCode::kFailedPrecondition:
      return ErrorResponse(409, "failed_precondition", status.message(), id);
    case StatusCode::kResourceExhausted:
      return ErrorResponse(429, "rate_limited", status.message(), id);
    case StatusCode::kUnavailable:
      return ErrorResponse(503, "unavailable",
                           "a dependency is unavailable; retry later", id);
    default:
      return ErrorResponse(500, "internal", "internal error", id);
  }
}

HttpResponse RateLimited(const ApiContext& api, const char* limit_name,
                         const auth::RateLimitDecision& refusal,
                         const HttpRequest& request) {
  if (api.metrics != nullptr) {
    api.metrics
        ->GetCounter("weft_rate_limited_total",
                     "Requests refused by a rate limit.",
                     {{"limit", limit_name}})
        .Inc();
  }
  std::string after = std::to_string(refusal.retry_after_seconds);
  HttpResponse r = ErrorResponse(
      429, "rate_limited", "too many requests; retry after " + after + " s",
      request.request_id);
  r.headers.emplace_back("Retry-After", after);
  AddRateHeaders(r, refusal);
  return r;
}

HttpResponse ValidationError(const auth::FieldErrors& errors,
                             const HttpRequest& request) {
  return ErrorResponse(400, "validation_failed",
                       "some fields are not valid; see details.fields",
                       request.request_id, {{"fields", errors.ToJson()}});
}

std::string QueryParam(const HttpRequest& request, std::string_view name) {
  std::string_view query = request.query;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string_view raw =
        eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        out += ' ';
      } else if (raw[i] == '%' && i + 2 < raw.size()) {
        auto hex = [](char c) -> int {
          if (c >= '0' && c <= '9') return c - '0';
          if (c >= 'a' && c <= 'f') return c - 'a' + 10;
          if (c >= 'A' && c <= 'F') return c - 'A' + 10;
          return -1;
        };
        int hi = hex(raw[i + 1]), lo = hex(raw[i + 2]);
        if (hi < 0 || lo < 0) {
          out += raw[i];
          continue;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
      } else {
        out += raw[i];
      }
    }
    return out;
  }
  return "";
}

std::string FormatTime(std::int64_t unix_ms) {
  time_t seconds = static_cast<time_t>(unix_ms / 1000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                utc.tm_min, utc.tm_sec, static_cast<int>(unix_ms % 1000));
  return buf;
}

std::int64_t NowMs(const ApiContext& api) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             api.clock->Now().time_since_epoch())
      .count();
}

std::string NewId() { return auth::RandomUrlSafeString(16); }

void NotifyAccessChanged(const ApiContext& api, const std::string& user_id) {
  if (api.on_access_changed) api.on_access_changed(user_id);
}

void NotifyAccessChangedForAll(const ApiContext& api) {
  if (api.on_access_changed_for_all) api.on_access_changed_for_all();
}

auth::Role ToAuthRole(store::Role role) {
  switch (role) {
    case store::Role::kOwner:
      return auth::Role::kOwner;
    case store::Role::kEditor:
      return auth::Role::kEditor;
    case store::Role::kViewer:
      return auth::Role::kViewer;
  }
  return auth::Role::kViewer;  // unreachable: the switch is exhaustive
}

store::Role ToStoreRole(auth::Role role) {
  switch (role) {
    case auth::Role::kOwner:
      return store::Role::kOwner;
    case auth::Role::kEditor:
      return store::Role::kEditor;
    default:
      return store::Role::kViewer;
  }
}

}  // namespace weft::server
