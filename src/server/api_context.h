#pragma once

// The services the REST API (accounts, workspaces, documents) works with.
// weftd builds one and passes it to AddApiRoutes(); tests build their own.
// Every pointer must outlive the router the routes were added to.

#include <chrono>
#include <functional>
#include <string>

#include "auth/access_token.h"
#include "auth/clock.h"
#include "auth/mailer.h"
#include "auth/password_hasher.h"
#include "auth/rate_limiter.h"
#include "auth/refresh_policy.h"
#include "auth/refresh_seal.h"
#include "server/metrics.h"
#include "store/metadata.h"

namespace weft::server {

struct ApiContext {
  // Account metadata (users, workspaces, documents, ...). Required.
  store::MetadataStore* metadata = nullptr;
  // Hashes and verifies passwords. Required.
  const auth::PasswordHasher* hasher = nullptr;
  // Signs and verifies access tokens. Required.
  const auth::AccessTokenCodec* access_tokens = nullptr;
  // Signs password-reset tokens; must use a different secret from
  // `access_tokens` (weftd derives one) and a lifetime of one hour. Required.
  const auth::AccessTokenCodec* reset_tokens = nullptr;
  // Refresh-token lifetimes.
  auth::RefreshPolicy refresh_policy;
  // Seals the refresh tokens issued, so that any superseded one presented
  // again ends its session (auth/refresh_seal.h); weftd derives its key
  // from the JWT secret. Optional: without it only the token the current
  // one replaced is recognised as reuse.
  const auth::RefreshTokenSeal* refresh_seal = nullptr;
  // Where password-reset and invitation mail goes. Required.
  auth::Mailer* mailer = nullptr;
  // "Now" for tokens, expiries and timestamps. Required.
  const auth::Clock* clock = nullptr;
  // Per client IP on the auth routes (register, login, refresh, logout,
  // password reset). Required.
  auth::TokenBucketLimiter* auth_limiter = nullptr;
  // Per user on every other authenticated route. Required.
  auth::TokenBucketLimiter* api_limiter = nullptr;
  // Failed sign-ins per account (keyed by the normalized email, whether or
  // not it has an account), from any IP. Required.
  auth::TokenBucketLimiter* login_limiter = nullptr;
  // Invitations sent per user (each mails the address the inviter
  // chose, with a workspace name the inviter chose): without it an
  // account could mail anyone thousands of times an hour. Optional.
  auth::TokenBucketLimiter* invitation_limiter = nullptr;
  // Password-reset mails per account: past it a request is answered as
  // always (202) but mails nothing, so that requests from many IPs cannot
  // flood one inbox or fill the mail queue everyone shares. Optional.
  auth::TokenBucketLimiter* reset_mail_limiter = nullptr;
  // Counts rate-limit refusals (weft_rate_limited_total). Optional.
  MetricsRegistry* metrics = nullptr;
  // Base of the links put in mail and invitation answers, e.g.
  // "https://weft.example.com" (never taken from request headers).
  std::string public_base_url = "http://127.0.0.1:8080";
  // How long an Idempotency-Key is remembered. Default 24 hours.
  std::chrono::seconds idempotency_ttl = std::chrono::hours(24);
  // How long an invitation can be accepted. Default 7 days.
  std::chrono::seconds invitation_lifetime = std::chrono::hours(24 * 7);
  // How long a soft-deleted document can be restored. Default 30 days.
  std::chrono::seconds document_retention = std::chrono::hours(24 * 30);
  // Called (synchronously, on the request's thread, after the change is
  // stored) with each user whose access changed: their membership or role
  // in a workspace changed or ended, or a workspace or document they could
  // reach was deleted. Live sessions of that user should re-check their
  // access. Empty = nobody listens. Must not block.
  std::function<void(const std::string& user_id)> on_access_changed;
  // Every live session's access may have changed (who cannot be told).
  std::function<void()> on_access_changed_for_all;
  // The current content of a document as JSON text, from the sync layer
  // (GET /api/v1/documents/{id}/content). Empty = not served (503).
  std::function<Result<std::string>(const std::string& doc_id)>
      document_content;
  // Deletes a document's content for good (its workspace was deleted):
  // the sync layer forgets it, then the store drops its ops and
  // snapshots. Empty = the content stays in the store.
  std::function<Status(const std::string& doc_id)> purge_document;
  // Whether the store is reachable and migrated (GET /readyz). Empty =
  // always ready.
  std::function<Status()> check_ready;
};

}  // namespace weft::server
