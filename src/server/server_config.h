#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace weft::server {

// Where weftd keeps accounts and documents ([store] in the config file).
struct StoreConfig {
  // "sqlite" (weft.db in the data directory), "postgres" or "memory" (lost
  // on exit). --store / WEFT_STORE.
  std::string kind = "sqlite";
  // libpq connection string or URL for "postgres". --database-url /
  // WEFT_DATABASE_URL.
  std::string database_url;
};

// The REST API of accounts ([api] in the config file).
struct ApiConfig {
  // "development": a missing JWT secret is generated into the data
  // directory, mail without SMTP goes to the log. "production": the secret
  // (WEFT_JWT_SECRET_FILE / WEFT_JWT_SECRET, never in this file) must be at
  // least 32 bytes. --mode / WEFT_MODE.
  std::string mode = "development";
  // Base of links in mail and invitation answers; empty = http://bind:port.
  std::string public_url;
  // Requests per minute per client IP on the auth routes.
  double auth_rate_limit = 10;
  // Burst per user on the other routes (refilled at a sixth per second).
  double api_rate_limit = 60;
  // Failed sign-ins per account per 10 minutes (also the burst), from any
  // number of IPs.
  double login_rate_limit = 10;
  // SMTP server ("smtp://host:587" or "smtps://host:465") and sender;
  // credentials only from WEFT_SMTP_USERNAME / WEFT_SMTP_PASSWORD.
  std::string smtp_url;
  std::string smtp_from;
  // How long invitations stay valid. Default 7 days.
  std::int64_t invitation_ttl_s = 7 * 24 * 3600;
  // How long a deleted document can be restored. Default 30 days.
  std::int64_t document_retention_s = 30 * 24 * 3600;
};

// The sync endpoint ([sync] in the config file).
struct SyncConfig {
  // Snapshot a document (then compact its log) once this many operations
  // were logged since its last snapshot. --snapshot-every /
  // WEFT_SNAPSHOT_EVERY.
  std::uint64_t snapshot_every = 1000;
  // ... or once the oldest operation not in a snapshot is this many seconds
  // old, so a slowly edited document's log stays short too.
  // --snapshot-after / WEFT_SNAPSHOT_AFTER.
  std::int64_t snapshot_after_s = 300;
  // How often documents without subscribers are snapshotted and unloaded.
  // --unload-interval / WEFT_UNLOAD_INTERVAL (seconds).
  std::int64_t unload_interval_s = 30;
  // Outbound bytes queued for one connection before it is closed with 4508
  // (slow consumer). --max-outbound-bytes / WEFT_MAX_OUTBOUND_BYTES.
  std::int64_t max_outbound_bytes = 8 * 1024 * 1024;
  // Milliseconds a document's durable changes may wait to be broadcast
  // together while edits stream in (the first after a quiet spell go at
  // once); 0 broadcasts every durable batch at once.
  // --broadcast-interval / WEFT_BROADCAST_INTERVAL.
  std::int64_t broadcast_interval_ms = 5;
};

// How weftd listens and what it accepts. Every field has a safe default.
struct ServerConfig {
  // Address to listen on (--bind / WEFT_BIND).
  std::string bind = "127.0.0.1";
  // TCP port (--port / WEFT_PORT); 0 picks a free port, logged at start.
  std::uint16_t port = 8080;
  // Where documents and metadata live (--data-dir / WEFT_DATA_DIR).
  std::string data_dir = "weft-data";
  // The built web app served for paths no route matches (--web-dir /
  // WEFT_WEB_DIR, web_dir in the file); relative to the working directory.
  // When it holds no index.html weftd serves only the API (and logs so).
  std::string web_dir = "web/dist";
  // Threads running the I/O context; 0 means one per core.
  unsigned threads = 0;
  // Largest request header block; larger answers 431.
  std::size_t max_header_bytes = 16 * 1024;
  // Largest request body; larger answers 413.
  std::size_t max_body_bytes = 1024 * 1024;
  // A connection with no complete request for this long is closed.
  std::chrono::seconds idle_timeout{30};
  // On SIGINT/SIGTERM, requests in flight get this long to finish.
  std::chrono::seconds shutdown_grace{10};
  StoreConfig store;
  ApiConfig api;
  SyncConfig sync;
};

}  // namespace weft::server
