#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "server/server_config.h"

namespace weft::server {

// Reads weftd's TOML configuration file into `config`, overwriting only the
// keys the file sets. weftd applies, lowest first: defaults, this file,
// WEFT_* environment variables, command-line flags.
//
//   [server]
//   bind = "127.0.0.1"        # string
//   port = 8080               # 0..65535
//   data_dir = "weft-data"    # string
//   threads = 0               # 0 = one per core
//   max_header_bytes = 16384
//   max_body_bytes = 1048576
//   idle_timeout_s = 30
//   shutdown_grace_s = 10
//
//   [store]
//   kind = "sqlite"           # sqlite | postgres | memory
//   database_url = ""         # libpq string, for postgres
//
//   [api]
//   mode = "development"      # development | production
//   public_url = ""           # default http://bind:port
//   auth_rate_limit = 10      # per minute per client IP, auth routes
//   api_rate_limit = 60       # burst per user, other routes
//   login_rate_limit = 10     # failed sign-ins per account per 10 min
//   smtp_url = ""             # smtp://host:587 or smtps://host:465
//   smtp_from = ""
//   invitation_ttl_s = 604800
//   document_retention_s = 2592000
//
// (The JWT secret and SMTP credentials come only from the environment.)
//
// Fails with kInvalidArgument naming the file, line and key on a syntax
// error, an unknown table or key (a typo must not be silently ignored), a
// wrong type or a value out of range; `config` is then unchanged.
Status ApplyConfigFile(const std::string& path, ServerConfig* config);

// The same for TOML text; `source` names it in errors.
Status ApplyConfigText(std::string_view text, std::string_view source,
                       ServerConfig* config);

}  // namespace weft::server
