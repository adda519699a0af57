#include "api_setup.h"

#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/log_mailer.h"
#include "auth/queued_mailer.h"
#include "auth/smtp_mailer.h"
#include "store_open.h"

namespace weftd {
namespace {

using weft::Result;
using weft::Status;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// The JWT secret: WEFT_JWT_SECRET_FILE, else WEFT_JWT_SECRET, else (in
// development only) <data dir>/jwt_secret, created with mode 0600.
Result<std::string> LoadSecret(const weft::server::ApiConfig& options,
                               const std::string& data_dir,
                               weft::server::JsonLog& log) {
  std::string secret;
  if (std::string file = Env("WEFT_JWT_SECRET_FILE"); !file.empty()) {
    auto s = ReadFile(file);
    if (!s.ok()) return s.status();
    secret = *s;
  } else {
    secret = Env("WEFT_JWT_SECRET");
  }
  if (!secret.empty() || options.mode == "production") {
    if (secret.size() < weft::auth::AccessTokenCodec::kMinSecretBytes) {
      return Status::InvalidArgument(
          "production mode needs a JWT secret of at least 32 bytes in "
          "WEFT_JWT_SECRET_FILE or WEFT_JWT_SECRET");
    }
    return secret;
  }
  std::string path = data_dir + "/jwt_secret";
  if (auto existing = ReadFile(path); existing.ok()) {
    if (existing->size() < weft::auth::AccessTokenCodec::kMinSecretBytes) {
      return Status::InvalidArgument(path +
                                     " holds a secret that is too "
                                     "short; delete it to make anew");
    }
    return *existing;
  }
  secret = weft::auth::AccessTokenCodec::GenerateSecret();
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    ::chmod(tmp.c_str(), 0600);
    out << secret << "\n";
    if (!out.flush()) return Status::Unavailable("cannot write " + tmp);
  }
  ::chmod(tmp.c_str(), 0600);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::Unavailable("cannot write " + path);
  log.Info("generated a JWT secret (development mode)", {{"path", path}});
  return secret;
}

// Refuses every message: production without SMTP must not put reset links
// in the log. Invitation links still reach the owner in the API answer.
class NoMailer final : public weft::auth::Mailer {
 public:
  Status Send(const weft::auth::MailMessage&) override {
    return Status::FailedPrecondition("no SMTP server is configured");
  }
};

// SMTP when configured; else the log (development) or nothing (production).
Result<std::unique_ptr<weft::auth::Mailer>> MakeMailer(
    const weft::server::ApiConfig& options, const weft::auth::Clock& clock,
    weft::server::JsonLog& log) {
  if (!options.smtp_url.empty()) {
    weft::auth::SmtpOptions smtp;
    smtp.url = options.smtp_url;
    smtp.from = options.smtp_from;
    smtp.username = Env("WEFT_SMTP_USERNAME");
    smtp.password = Env("WEFT_SMTP_PASSWORD");
    auto m = weft::auth::SmtpMailer::Create(smtp, clock);
    if (!m.ok()) return m.status();
    return std::unique_ptr<weft::auth::Mailer>(std::move(*m));
  }
  if (options.mode == "production") {
    log.Info("no --smtp-url: password-reset and invitation mail is not sent");
    return std::unique_ptr<weft::auth::Mailer>(std::make_unique<NoMailer>());
  }
  auto sink = [&log](std::string_view line) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    if (!ec && v.is_object()) {
      log.Info("mail (development mailer)", v.as_object());
    }
  };
  return std::unique_ptr<weft::auth::Mailer>(
      std::make_unique<weft::auth::LogMailer>(sink));
}

// A limiter like `base` that allows `burst` requests at once and refills
// them over `refill_seconds`.
std::unique_ptr<weft::auth::TokenBucketLimiter> Limiter(
    weft::auth::RateLimitOptions base, double burst, double refill_seconds) {
  base.capacity = burst;
  base.refill_per_second = burst / refill_seconds;
  return std::make_unique<weft::auth::TokenBucketLimiter>(base);
}

}  // namespace

void AddApiOptions(CLI::App& app, weft::server::ServerConfig& config) {
  weft::server::StoreConfig& store = config.store;
  weft::server::ApiConfig& api = config.api;
  app.add_option("--store", store.kind, "sqlite, postgres or memory")
      ->envname("WEFT_STORE")
      ->check(CLI::IsMember({"sqlite", "postgres", "memory"}))
      ->capture_default_str();
  app.add_option("--database-url", store.database_url,
                 "PostgreSQL connection string (with --store postgres)")
      ->envname("WEFT_DATABASE_URL");
  app.add_option("--mode", api.mode, "development or production")
      ->envname("WEFT_MODE")
      ->check(CLI::IsMember({"development", "production"}))
      ->capture_default_str();
  app.add_option("--public-url", api.public_url,
                 "Base URL of links in mail (default http://bind:port)")
      ->envname("WEFT_PUBLIC_URL");
  app.add_option("--auth-rate-limit", api.auth_rate_limit,
                 "Auth requests per minute per client IP")
      ->envname("WEFT_AUTH_RATE_LIMIT")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  app.add_option("--login-rate-limit", api.login_rate_limit,
                 "Failed sign-ins per account per 10 minutes, from any IP")
      ->envname("WEFT_LOGIN_RATE_LIMIT")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  app.add_option("--api-rate-limit", api.api_rate_limit,
                 "Burst of API requests per user (refill: a sixth per s)")
      ->envname("WEFT_API_RATE_LIMIT")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  app.add_option("--smtp-url", api.smtp_url,
                 "SMTP server for mail (smtp://host:587 or smtps://host:465)")
      ->envname("WEFT_SMTP_URL");
  app.add_option("--smtp-from", api.smtp_from, "Sender of weft's mail")
      ->envname("WEFT_SMTP_FROM");
  app.add_option("--invitation-ttl", api.invitation_ttl_s,
                 "Seconds an invitation stays valid")
      ->envname("WEFT_INVITATION_TTL")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--document-retention", api.document_retention_s,
                 "Seconds a deleted document can be restored (then it is "
                 "purged, content included)")
      ->envname("WEFT_DOCUMENT_RETENTION")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

Result<std::unique_ptr<ApiRuntime>> StartApi(
    const weft::server::ServerConfig& config, weft::server::JsonLog& log,
    weft::server::MetricsRegistry& metrics) {
  const weft::server::ApiConfig& options = config.api;
  auto rt = std::make_unique<ApiRuntime>();
  if (config.store.kind == "sqlite") {
    auto lock = weft::store::SqliteStoreLock::Acquire(
        weft::app::SqliteStorePath(config.data_dir));
    if (!lock.ok()) return lock.status();
    rt->store_lock.emplace(std::move(*lock));
  }
  auto secret = LoadSecret(options, config.data_dir, log);
  if (!secret.ok()) return secret.status();
  // Durable group commits (write and fsync): their duration and size.
  auto& commit_seconds = metrics.GetHistogram(
      "weft_store_commit_seconds",
      "Duration of one durable group commit of the operation log, fsync "
      "included.");
  auto& commit_ops =
      metrics.GetCounter("weft_store_committed_ops_total",
                         "Operations made durable by group commits.");
  auto& commits =
      metrics.GetCounter("weft_store_commits_total", "Durable group commits.");
  auto store = weft::app::OpenConfiguredStore(
      config.store.kind, config.data_dir, config.store.database_url,
      [&commit_seconds, &commit_ops, &commits](
          std::size_t ops, std::chrono::steady_clock::duration took) {
        commit_seconds.Observe(std::chrono::duration<double>(took).count());
        commit_ops.Inc(ops);
        commits.Inc();
      });
  if (!store.ok()) return store.status();
  rt->store = std::move(*store);

  // Test-only: WEFT_PASSWORD_HASH_COST=test uses the cheapest argon2id
  // parameters, so that test suites can register many users quickly.
  auto hash_options = Env("WEFT_PASSWORD_HASH_COST") == "test"
                          ? weft::auth::PasswordHashOptions::MinimumForTests()
                          : weft::auth::PasswordHashOptions{};
  if (Env("WEFT_PASSWORD_HASH_COST") == "test") {
    log.Info(
        "WEFT_PASSWORD_HASH_COST=test: weak password hashing, for tests "
        "only");
  }
  auto hasher = weft::auth::PasswordHasher::Create(hash_options);
  if (!hasher.ok()) return hasher.status();
  rt->hasher = std::make_unique<weft::auth::PasswordHasher>(*hasher);
  auto access = weft::auth::AccessTokenCodec::Create(*secret);
  if (!access.ok()) return access.status();
  rt->access_tokens =
      std::make_unique<weft::auth::AccessTokenCodec>(std::move(*access));
  weft::auth::AccessTokenOptions reset_options;
  reset_options.lifetime = std::chrono::hours(1);
  auto reset = weft::auth::AccessTokenCodec::Create("password-reset:" + *secret,
                                                    reset_options);
  if (!reset.ok()) return reset.status();
  rt->reset_tokens =
      std::make_unique<weft::auth::AccessTokenCodec>(std::move(*reset));
  rt->refresh_seal =
      std::make_unique<weft::auth::RefreshTokenSeal>("refresh-seal:" + *secret);

  auto mailer = MakeMailer(options, rt->clock, log);
  if (!mailer.ok()) return mailer.status();
  rt->mailer = std::make_unique<weft::auth::QueuedMailer>(
      std::move(*mailer), weft::auth::QueuedMailerOptions{},
      [&log](const weft::auth::MailMessage& m, const Status& s) {
        log.Error("mail not delivered",
                  {{"to", m.to}, {"error", s.ToString()}});
      });

  using weft::auth::RateLimitOptions;
  rt->auth_limiter =
      Limiter(RateLimitOptions::AuthPerIp(), options.auth_rate_limit, 60);
  rt->api_limiter =
      Limiter(RateLimitOptions::ApiPerUser(), options.api_rate_limit, 6);
  rt->login_limiter = Limiter(RateLimitOptions::LoginPerAccount(),
                              options.login_rate_limit, 600);
  rt->invitation_limiter = std::make_unique<weft::auth::TokenBucketLimiter>(
      RateLimitOptions::InvitationsPerUser());
  rt->reset_mail_limiter = std::make_unique<weft::auth::TokenBucketLimiter>(
      RateLimitOptions::ResetMailsPerAccount());

  auto& c = rt->context;
  c.metadata = &rt->store->metadata();
  c.hasher = rt->hasher.get();
  c.access_tokens = rt->access_tokens.get();
  c.reset_tokens = rt->reset_tokens.get();
  c.refresh_seal = rt->refresh_seal.get();
  c.mailer = rt->mailer.get();
  c.clock = &rt->clock;
  c.auth_limiter = rt->auth_limiter.get();
  c.api_limiter = rt->api_limiter.get();
  c.login_limiter = rt->login_limiter.get();
  c.invitation_limiter = rt->invitation_limiter.get();
  c.reset_mail_limiter = rt->reset_mail_limiter.get();
  c.metrics = &metrics;
  c.invitation_lifetime = std::chrono::seconds(options.invitation_ttl_s);
  c.document_retention = std::chrono::seconds(options.document_retention_s);
  c.public_base_url =
      !options.public_url.empty()
          ? options.public_url
          : "http://" + config.bind + ":" + std::to_string(config.port);
  while (!c.public_base_url.empty() && c.public_base_url.back() == '/') {
    c.public_base_url.pop_back();
  }
  weft::store::MetadataStore* metadata = c.metadata;
  weft::store::Store* log_store = rt->store.get();
  c.check_ready = [metadata, log_store]() -> Status {
    // Migrations ran when the store opened; this proves it still answers,
    // for accounts and for the operation log (which refuses everything
    // after a failed WAL fsync, while account reads still work).
    auto probe = metadata->GetUser("readyz-probe");
    if (!probe.ok() && probe.status().code() != weft::StatusCode::kNotFound) {
      return probe.status();
    }
    auto last = log_store->LastSeq("readyz-probe");
    return last.ok() ? Status::Ok() : last.status();
  };
  return rt;
}

}  // namespace weftd
