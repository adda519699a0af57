#include "server/config_file.h"

#include <toml++/toml.h>

#include <fstream>
#include <limits>
#include <sstream>

namespace weft::server {
namespace {

Status Bad(std::string_view source, const toml::node& node,
           const std::string& what) {
  const auto& where = node.source().begin;
  return Status::InvalidArgument(std::string(source) + ":" +
                                 std::to_string(where.line) + ": " + what);
}

// Reads an integer in [lo, hi] from `node` into `out`.
template <typename T>
Status Int(std::string_view source, const std::string& key,
           const toml::node& node, std::int64_t lo, std::int64_t hi, T* out) {
  auto v = node.value<std::int64_t>();
  if (!node.is_integer() || !v)
    return Bad(source, node, key + " must be an integer");
  if (*v < lo || *v > hi) {
    return Bad(source, node,
               key + " must be between " + std::to_string(lo) + " and " +
                   std::to_string(hi));
  }
  *out = static_cast<T>(*v);
  return Status::Ok();
}

Status String(std::string_view source, const std::string& key,
              const toml::node& node, std::string* out) {
  if (!node.is_string()) return Bad(source, node, key + " must be a string");
  *out = *node.value<std::string>();
  return Status::Ok();
}

}  // namespace

Status ApplyConfigText(std::string_view text, std::string_view source,
                       ServerConfig* config) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(std::string(source) + ":" +
                                   std::to_string(e.source().begin.line) +
                                   ": " + std::string(e.description()));
  }
  ServerConfig next = *config;
  for (const auto& [table_key, table_node] : root) {
    std::string table(table_key.str());
    if ((table != "server" && table != "store" && table != "api" &&
         table != "sync") ||
        !table_node.is_table()) {
      return Bad(source, table_node,
                 "unknown table '" + table +
                     "' (expected [server], [store] or [api])");
    }
    for (const auto& [k, node] : *table_node.as_table()) {
      std::string key = table + "." + std::string(k.str());
      std::int64_t secs = 0;
      Status s;
      if (table == "store") {
        if (k == "kind") {
          s = String(source, key, node, &next.store.kind);
          if (s.ok() && next.store.kind != "sqlite" &&
              next.store.kind != "postgres" && next.store.kind != "memory") {
            s = Bad(source, node, key + " must be sqlite, postgres or memory");
          }
        } else if (k == "database_url") {
          s = String(source, key, node, &next.store.database_url);
        } else {
          s = Bad(source, node, "unknown key '" + key + "'");
        }
      } else if (table == "sync") {
        SyncConfig& y = next.sync;
        if (k == "snapshot_every") {
          s = Int(source, key, node, 1, 100'000'000, &y.snapshot_every);
        } else if (k == "snapshot_after_s") {
          s = Int(source, key, node, 1, 7 * 86400, &y.snapshot_after_s);
        } else if (k == "broadcast_interval_ms") {
          s = Int(source, key, node, 0, 1000, &y.broadcast_interval_ms);
        } else if (k == "unload_interval_s") {
          s = Int(source, key, node, 1, 86400, &y.unload_interval_s);
        } else if (k == "max_outbound_bytes") {
          s = Int(source, key, node, 4096, std::int64_t{1} << 32,
                  &y.max_outbound_bytes);
        } else {
          s = Bad(source, node, "unknown key '" + key + "'");
        }
      } else if (table == "api") {
        ApiConfig& a = next.api;
        if (k == "mode") {
          s = String(source, key, node, &a.mode);
          if (s.ok() && a.mode != "development" && a.mode != "production") {
            s = Bad(source, node, key + " must be development or production");
          }
        } else if (k == "public_url") {
          s = String(source, key, node, &a.public_url);
        } else if (k == "auth_rate_limit") {
          s = Int(source, key, node, 1, 1'000'000, &a.auth_rate_limit);
        } else if (k == "api_rate_limit") {
          s = Int(source, key, node, 1, 1'000'000, &a.api_rate_limit);
        } else if (k == "login_rate_limit") {
          s = Int(source, key, node, 1, 1'000'000, &a.login_rate_limit);
        } else if (k == "smtp_url") {
          s = String(source, key, node, &a.smtp_url);
        } else if (k == "smtp_from") {
          s = String(source, key, node, &a.smtp_from);
        } else if (k == "invitation_ttl_s") {
          s = Int(source, key, node, 1, 365 * 86400, &a.invitation_ttl_s);
        } else if (k == "document_retention_s") {
          s = Int(source, key, node, 1, 3650 * 86400, &a.document_retention_s);
        } else {
          s = Bad(source, node, "unknown key '" + key + "'");
        }
      } else if (k == "bind") {
        s = String(source, key, node, &next.bind);
      } else if (k == "port") {
        s = Int(source, key, node, 0, 65535, &next.port);
      } else if (k == "data_dir") {
        s = String(source, key, node, &next.data_dir);
      } else if (k == "web_dir") {
        s = String(source, key, node, &next.web_dir);
      } else if (k == "threads") {
        s = Int(source, key, node, 0, 1024, &next.threads);
      } else if (k == "max_header_bytes") {
        s = Int(source, key, node, 1024, 1 << 20, &next.max_header_bytes);
      } else if (k == "max_body_bytes") {
        s = Int(source, key, node, 1024, std::int64_t{1} << 30,
                &next.max_body_bytes);
      } else if (k == "idle_timeout_s") {
        s = Int(source, key, node, 1, 86400, &secs);
        next.idle_timeout = std::chrono::seconds(secs);
      } else if (k == "shutdown_grace_s") {
        s = Int(source, key, node, 0, 3600, &secs);
        next.shutdown_grace = std::chrono::seconds(secs);
      } else {
        s = Bad(source, node, "unknown key '" + key + "'");
      }
      WEFT_RETURN_IF_ERROR(s);
    }
  }
  *config = std::move(next);
  return Status::Ok();
}

Status ApplyConfigFile(const std::string& path, ServerConfig* config) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ApplyConfigText(ss.str(), path, config);
}

}  // namespace weft::server
