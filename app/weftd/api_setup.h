#pragma once

// weftd's wiring of the REST API: the options it adds to the command line,
// and the services (store, password hasher, token codecs, mailer, rate
// limiters) behind server::ApiContext. Kept apart from main.cpp so that
// main stays a short list of wiring steps.

#include <CLI/CLI.hpp>
#include <memory>
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
#include "store/store.h"

namespace weftd {

struct ApiOptions {
  // "sqlite" (the file weft.db in the data directory), "postgres" or
  // "memory" (lost on exit; for trying weft out and tests).
  std::string store = "sqlite";
  // libpq connection string or URL, for --store postgres.
  std::string database_url;
  // "development": a missing JWT secret is generated and kept in the data
  // directory, mail goes to the log. "production": a JWT secret of at
  // least 32 bytes must come from WEFT_JWT_SECRET_FILE or WEFT_JWT_SECRET.
  std::string mode = "development";
  // Base of links in mail and invitation answers; default
  // http://<bind>:<port>.
  std::string public_url;
  // Requests per minute per client IP on the auth routes. Default 10.
  double auth_rate_per_minute = 10;
  // Burst per user on the other routes (refilled at a sixth of it per
  // second). Default 60.
  double api_rate_burst = 60;
  // SMTP server for reset and invitation mail ("smtp://host:587" or
  // "smtps://host:465"); empty = the development log mailer (development
  // mode) or no mail (production mode). Credentials come from
  // WEFT_SMTP_USERNAME / WEFT_SMTP_PASSWORD only.
  std::string smtp_url;
  // Sender address of that mail.
  std::string smtp_from;
  // How long invitations stay valid, in seconds. Default 7 days.
  std::int64_t invitation_ttl_s = 7 * 24 * 3600;
  // How long a deleted document can be restored, in seconds. Default 30 days.
  std::int64_t document_retention_s = 30 * 24 * 3600;
};

// Adds --store, --database-url, --mode, --public-url, --auth-rate-limit,
// --api-rate-limit, --smtp-url, --smtp-from, --invitation-ttl and
// --document-retention (with their
// WEFT_* variables) to `app`.
void AddApiOptions(CLI::App& app, ApiOptions& options);

// Everything the API routes use; lives as long as the server.
struct ApiRuntime {
  std::unique_ptr<weft::store::Store> store;
  std::unique_ptr<weft::auth::PasswordHasher> hasher;
  std::unique_ptr<weft::auth::AccessTokenCodec> access_tokens;
  std::unique_ptr<weft::auth::AccessTokenCodec> reset_tokens;
  std::unique_ptr<weft::auth::Mailer> mailer;
  weft::auth::SystemClock clock;
  std::unique_ptr<weft::auth::TokenBucketLimiter> auth_limiter;
  std::unique_ptr<weft::auth::TokenBucketLimiter> api_limiter;
  weft::server::ApiContext context;
};

// Opens the store (running migrations), loads or creates the JWT secret and
// builds the context. Fails (with a message for the operator) on a bad
// option, an unreachable store or, in production, a missing or short
// secret.
// docs/openapi.yaml as JSON (generated at build time).
std::string OpenApiJson();

weft::Result<std::unique_ptr<ApiRuntime>> StartApi(
    const ApiOptions& options, const weft::server::ServerConfig& config,
    weft::server::JsonLog& log, weft::server::MetricsRegistry& metrics);

}  // namespace weftd
