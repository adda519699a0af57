// weft-load: simulated users typing into weft documents over the sync
// protocol, with latency, throughput and loss measurements (docs/load.md).
// Wiring only: options, setup through REST, the run, the reports.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>

#include "load_options.h"
#include "load_report.h"
#include "load_run.h"
#include "rest_setup.h"

namespace {

// A finite number in [lo, hi] (CLI11's Range lets NaN through).
CLI::Validator FiniteIn(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        double v = 0;
        try {
          std::size_t used = 0;
          v = std::stod(s, &used);
          if (used != s.size()) return "not a number: " + s;
        } catch (const std::exception&) {
          return "not a number: " + s;
        }
        if (!std::isfinite(v) || v < lo || v > hi) {
          return "must be a finite number in [" + CLI::detail::to_string(lo) +
                 ", " + CLI::detail::to_string(hi) + "]";
        }
        return {};
      },
      "FINITE in [" + CLI::detail::to_string(lo) + " - " +
          CLI::detail::to_string(hi) + "]");
}

// weftd's limit on submits per connection (protocol.md §5, sustained).
constexpr double kMaxSubmitsPerSecond = 200;
// Every typist keeps a send-time table of 8 bytes per op it may send.
constexpr double kMaxSendTableBytes = 4.0 * (1ull << 30);

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) std::cerr << "weft-load: cannot write " << path << "\n";
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  weft::load::LoadOptions o;
  CLI::App app{"weft-load: simulated users typing into weft documents"};
  app.add_option("--url", o.url, "weftd's base URL")->capture_default_str();
  app.add_option("--users", o.users, "Simulated users (one connection each)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--docs", o.docs, "Documents; user i edits document i % M")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--rate", o.rate, "Edits per user per second")
      ->check(FiniteIn(1e-3, 1e6))
      ->capture_default_str();
  app.add_option("--duration", o.duration_s, "Seconds of typing (or holding)")
      ->check(FiniteIn(0, 7 * 86400))
      ->capture_default_str();
  app.add_option("--batch", o.batch, "Edits per submit")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--accounts", o.accounts,
                 "REST accounts the users share (0: min(users, 5))")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--idle", o.idle,
               "Only connect, each user subscribed to its own document");
  app.add_flag("--lean", o.lean,
               "Users do not apply others' edits (less client CPU; "
               "convergence is then checked on the server's copy only)");
  app.add_flag("--setup-only", o.setup_only,
               "Set up through REST, print the ids as JSON and exit");
  app.add_option("--seed", o.seed, "Random seed")->capture_default_str();
  app.add_option("--threads", o.threads, "I/O threads")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--connect-window", o.connect_window,
                 "Connections being opened at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--drain", o.drain_s,
                 "Seconds to wait for outstanding acks and deliveries")
      ->check(FiniteIn(0, 86400))
      ->capture_default_str();
  app.add_option("--reconnect-timeout", o.reconnect_timeout_s,
                 "Seconds a user without sync keeps trying before it gives up")
      ->check(FiniteIn(1, 86400))
      ->capture_default_str();
  app.add_option("--setup-parallel", o.setup_parallel,
                 "Parallel REST requests while creating documents")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--json", o.json_path, "Write the JSON report here");
  app.add_option("--md", o.md_path, "Write the Markdown report here");
  app.add_option("--acked", o.acked_path,
                 "Write the acknowledged change ids here (for --verify)");
  app.add_option("--verify", o.verify_path,
                 "Check that every change listed in this --acked file is "
                 "on the server, then exit");
  app.add_flag("--quiet", o.quiet, "No progress lines");
  CLI11_PARSE(app, argc, argv);
  if (o.idle) o.docs = o.users;
  if (!o.idle && o.verify_path.empty()) {
    double submits = o.rate / o.batch;
    if (submits > kMaxSubmitsPerSecond) {
      std::cerr << "weft-load: --rate " << o.rate << " with --batch " << o.batch
                << " is " << submits << " submits/s per user; weftd allows "
                << kMaxSubmitsPerSecond
                << " per connection (protocol.md, limits): raise --batch to "
                << "at least " << std::ceil(o.rate / kMaxSubmitsPerSecond)
                << "\n";
      return 2;
    }
    // The send-time tables (load_run.cpp): one slot per op a user may send.
    double bytes = static_cast<double>(o.users) * 8 *
                   (o.rate * (o.duration_s + 5) * 1.5 + 1024);
    if (bytes > kMaxSendTableBytes) {
      std::cerr << "weft-load: --users × --rate × --duration too large: the "
                << "send-time tables would take " << bytes / (1ull << 30)
                << " GiB (at most " << kMaxSendTableBytes / (1ull << 30)
                << ")\n";
      return 2;
    }
  }

  auto endpoint = weft::load::ParseHttpUrl(o.url);
  if (!endpoint.ok()) {
    std::cerr << "weft-load: " << endpoint.status().message() << "\n";
    return 2;
  }
  weft::Result<weft::load::LoadResult> result =
      weft::Status::Internal("not run");
  if (!o.verify_path.empty()) {
    result = weft::load::RunVerify(o, *endpoint);
  } else {
    int accounts = o.accounts > 0 ? o.accounts : std::min(o.users, 5);
    // A tag unique to this run, so that runs against one server never
    // collide on e-mail addresses.
    std::random_device rd;
    char tag[32];
    std::snprintf(tag, sizeof tag, "%08x%04llx", rd(),
                  static_cast<unsigned long long>(o.seed & 0xffff));
    if (!o.quiet) {
      std::cerr << "setting up " << accounts << " accounts and " << o.docs
                << " documents through " << o.url << "\n";
    }
    auto setup = weft::load::SetUpThroughRest(*endpoint, accounts, o.docs, tag,
                                              o.setup_parallel);
    if (!setup.ok()) {
      std::cerr << "weft-load: setup failed: " << setup.status().ToString()
                << "\n";
      return 1;
    }
    if (o.setup_only) {
      std::cout << "{\"workspace\":\"" << setup->workspace_id
                << "\",\"docs\":" << setup->docs.size() << "}\n";
      return 0;
    }
    result = weft::load::RunLoad(o, *endpoint, *setup);
  }
  if (!result.ok()) {
    std::cerr << "weft-load: " << result.status().ToString() << "\n";
    return 1;
  }
  std::string json = weft::load::ReportJson(*result);
  std::string md = weft::load::ReportMarkdown(*result);
  bool ok = true;
  if (!o.json_path.empty()) ok &= WriteFile(o.json_path, json);
  if (!o.md_path.empty()) ok &= WriteFile(o.md_path, md);
  std::cout << md;
  if (!ok) return 1;
  return result->errors == 0 ? 0 : 3;
}
