// weftd: the weft server. Wiring only: parse the configuration, build the
// routes, serve until SIGINT/SIGTERM.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "api_setup.h"
#include "common/build_info.h"
#include "server/api_routes.h"
#include "server/config_file.h"
#include "server/http_server.h"
#include "server/json_log.h"
#include "server/router.h"
#include "server/static_files.h"
#include "server/system_routes.h"
#include "sync_setup.h"

namespace {

// The config file named by --config (or WEFT_CONFIG), found before the full
// parse because the file's values sit below environment and flags.
std::string FindConfigPath(int argc, char** argv) {
  std::string path;
  if (const char* env = std::getenv("WEFT_CONFIG")) path = env;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) path = argv[i + 1];
    if (arg.rfind("--config=", 0) == 0) path = arg.substr(9);
  }
  return path;
}

// Every sync connection holds a socket: lift the soft limit on open files
// to the hard one (often 1,024 -> 1,048,576), so that thousands of clients
// need no ulimit in the service's start script.
void RaiseOpenFileLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  weft::server::ServerConfig config;
  std::string config_path = FindConfigPath(argc, argv);
  if (!config_path.empty()) {
    if (auto s = weft::server::ApplyConfigFile(config_path, &config); !s.ok()) {
      std::cerr << "weftd: " << s.message() << "\n";
      return 2;
    }
  }
  CLI::App app{"weftd: the weft real-time collaboration server"};
  app.add_option("--config", config_path,
                 "TOML configuration file (below WEFT_* variables and flags)")
      ->envname("WEFT_CONFIG");
  app.set_version_flag("--version", "weftd " + std::string(weft::Version()) +
                                        " (" + std::string(weft::GitCommit()) +
                                        ")");
  app.add_option("--bind", config.bind, "Address to listen on")
      ->envname("WEFT_BIND")
      ->capture_default_str();
  app.add_option("--port", config.port, "TCP port (0 picks a free one)")
      ->envname("WEFT_PORT")
      ->capture_default_str();
  app.add_option("--data-dir", config.data_dir, "Directory for weft's data")
      ->envname("WEFT_DATA_DIR")
      ->capture_default_str();
  app.add_option("--web-dir", config.web_dir,
                 "Built web app to serve (index.html and assets)")
      ->envname("WEFT_WEB_DIR")
      ->capture_default_str();
  app.add_option("--threads", config.threads, "I/O threads (0: one per core)")
      ->envname("WEFT_THREADS")
      ->capture_default_str();
  app.add_option("--snapshot-every", config.sync.snapshot_every,
                 "Snapshot a document after this many logged operations")
      ->envname("WEFT_SNAPSHOT_EVERY")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--snapshot-after", config.sync.snapshot_after_s,
                 "Snapshot a document once its oldest operation not in a "
                 "snapshot is this many seconds old")
      ->envname("WEFT_SNAPSHOT_AFTER")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--broadcast-interval", config.sync.broadcast_interval_ms,
                 "Milliseconds a document's changes may wait to be broadcast "
                 "together while edits stream in (0: at once)")
      ->envname("WEFT_BROADCAST_INTERVAL")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--unload-interval", config.sync.unload_interval_s,
                 "Seconds between unloads of documents nobody has open")
      ->envname("WEFT_UNLOAD_INTERVAL")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-outbound-bytes", config.sync.max_outbound_bytes,
                 "Bytes queued for one sync connection before it is closed "
                 "(4508)")
      ->envname("WEFT_MAX_OUTBOUND_BYTES")
      ->check(CLI::Range(std::int64_t{4096}, std::int64_t{1} << 32))
      ->capture_default_str();
  weftd::AddApiOptions(app, config);
  CLI11_PARSE(app, argc, argv);
  RaiseOpenFileLimit();

  weft::server::JsonLog log;
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    log.Error("cannot create data directory",
              {{"data_dir", config.data_dir}, {"error", ec.message()}});
    return 1;
  }

  weft::server::MetricsRegistry metrics;
  weft::server::Router router;
  weft::server::AddSystemRoutes(router, metrics);
  auto api = weftd::StartApi(config, log, metrics);
  if (!api.ok()) {
    log.Error("cannot start the API", {{"error", api.status().ToString()}});
    return 1;
  }
  auto sync = weftd::StartSync(**api, config.sync, metrics);
  weft::server::AddApiRoutes(router, (*api)->context, weftd::OpenApiJson());
  auto web = std::make_shared<weft::server::StaticFiles>(config.web_dir);
  if (web->Available()) {
    router.SetFallback([web](const weft::server::HttpRequest& request) {
      return web->Serve(request);
    });
  } else {
    log.Info("no web app to serve (build it with `make run`)",
             {{"web_dir", config.web_dir}});
  }

  weft::server::HttpServer server(config, router, log, metrics,
                                  sync->service.get());
  if (auto status = server.Listen(); !status.ok()) {
    log.Error("cannot start", {{"error", status.ToString()}});
    return 1;
  }
  server.Run();
  return 0;
}
