#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace weft::server {

// How weftd listens and what it accepts. Every field has a safe default.
struct ServerConfig {
  // Address to listen on (--bind / WEFT_BIND).
  std::string bind = "127.0.0.1";
  // TCP port (--port / WEFT_PORT); 0 picks a free port, logged at start.
  std::uint16_t port = 8080;
  // Where documents and metadata live (--data-dir / WEFT_DATA_DIR).
  std::string data_dir = "weft-data";
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
};

}  // namespace weft::server
