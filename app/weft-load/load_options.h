#pragma once

#include <cstdint>
#include <string>

namespace weft::load {

// The command line of weft-load (docs/load.md).
struct LoadOptions {
  std::string url = "http://127.0.0.1:8080";  // weftd's base URL (http only)
  int users = 10;           // simulated users, one sync connection each
  int docs = 1;             // documents; user i edits document i % docs
  double rate = 10;         // edits per user per second
  double duration_s = 10;   // seconds of typing (or holding, with --idle)
  int batch = 1;            // changes per submit (each one edit)
  int accounts = 0;         // REST accounts the users share (0: min(users, 5))
  bool idle = false;        // connect and subscribe each user to its own doc
  bool lean = false;        // users do not apply others' edits to a replica
  bool setup_only = false;  // set up through REST, print the ids, exit
  std::uint64_t seed = 1;
  int threads = 2;                  // I/O threads
  int connect_window = 256;         // connections being opened at once
  double drain_s = 15;              // seconds to wait for acks and delivery
  double reconnect_timeout_s = 30;  // give up reconnecting after this
  int setup_parallel = 4;           // parallel REST requests during setup
  std::string json_path;            // JSON report
  std::string md_path;              // Markdown report
  std::string acked_path;           // acknowledged change ids (for --verify)
  std::string verify_path;          // verify a file written by --acked
  bool quiet = false;               // no progress lines
};

}  // namespace weft::load
