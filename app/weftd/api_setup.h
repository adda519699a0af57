#pragma once

// weftd's wiring of the REST API: the options it adds to the command line,
// and the services (store, password hasher, token codecs, mailer, rate
// limiters) behind server::ApiContext. Kept apart from main.cpp so that
// main stays a short list of wiring steps.

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "auth/access_token.h"
#include "auth/clock.h"
#include "auth/mailer.h"
#include "auth/password_hasher.h"
#include "auth/rate_limiter.h"
#include "common/status.h"
#include "server/api_context.h"
#include "server/json_log.h"
#include "server/metrics.h"
#include "server/server_config.h"
#include "store/sqlite_lock.h"
#include "store/store.h"

namespace weftd {

// Adds --store, --database-url, --mode, --public-url, --auth-rate-limit,
// --login-rate-limit, --api-rate-limit, --smtp-url, --smtp-from,
// --invitation-ttl and
// --document-retention (with their WEFT_* variables) to `app`, bound to
// config.store and config.api, so that flags and environment override the
// config file's values (applied before parsing).
void AddApiOptions(CLI::App& app, weft::server::ServerConfig& config);

// Everything the API routes use; lives as long as the server.
struct ApiRuntime {
  // Held while weftd runs on a SQLite store (declared first: released
  // after the store has closed).
  std::optional<weft::store::SqliteStoreLock> store_lock;
  std::unique_ptr<weft::store::Store> store;
  std::unique_ptr<weft::auth::PasswordHasher> hasher;
  std::unique_ptr<weft::auth::AccessTokenCodec> access_tokens;
  std::unique_ptr<weft::auth::AccessTokenCodec> reset_tokens;
  std::unique_ptr<weft::auth::RefreshTokenSeal> refresh_seal;
  std::unique_ptr<weft::auth::Mailer> mailer;
  weft::auth::SystemClock clock;
  std::unique_ptr<weft::auth::TokenBucketLimiter> auth_limiter;
  std::unique_ptr<weft::auth::TokenBucketLimiter> api_limiter;
  std::unique_ptr<weft::auth::TokenBucketLimiter> login_limiter;
  std::unique_ptr<weft::auth::TokenBucketLimiter> invitation_limiter;
  std::unique_ptr<weft::auth::TokenBucketLimiter> reset_mail_limiter;
  weft::server::ApiContext context;
};

// docs/openapi.yaml as JSON (generated at build time).
std::string OpenApiJson();

// Opens the store (running migrations), loads or creates the JWT secret and
// builds the context. Fails (with a message for the operator) on a bad
// option, an unreachable store or, in production, a missing or short
// secret.
weft::Result<std::unique_ptr<ApiRuntime>> StartApi(
    const weft::server::ServerConfig& config, weft::server::JsonLog& log,
    weft::server::MetricsRegistry& metrics);

}  // namespace weftd
