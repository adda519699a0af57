#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "server/connection_registry.h"
#include "server/document_hub.h"
#include "server/sync_access.h"
#include "server/sync_connection.h"

namespace weft::server {

// Everything the sync endpoint (GET /api/v1/sync, WebSocket) needs, wired
// by weftd. The references must outlive the HTTP server.
struct SyncService {
  SyncService(DocumentHub& h, SyncAuthenticator& a, DocumentAccess& d,
              ConnectionRegistry& r)
      : hub(h), auth(a), access(d), registry(r) {}

  DocumentHub& hub;
  SyncAuthenticator& auth;
  DocumentAccess& access;
  ConnectionRegistry& registry;
  Clock clock = [] { return std::chrono::system_clock::now(); };
  SyncLimits limits;
  // Largest message a client may send; larger closes with 1009.
  std::size_t max_message_bytes = 1024 * 1024;
  // Outbound bytes queued for a slow client before it is closed with 4508.
  std::size_t max_outbound_bytes = 8 * 1024 * 1024;
  // A connection must send `hello` within this time (else 4401).
  std::chrono::seconds hello_timeout{10};
  // Without any frame (pings included) for this long, a connection closes.
  std::chrono::seconds idle_timeout{60};
  // How often documents without subscribers are snapshotted and unloaded.
  std::chrono::seconds unload_interval{30};
  // How often coalesced presence is forwarded (DocumentHub::FlushPresence);
  // silent sessions lose their presence at most a second late.
  std::chrono::milliseconds presence_interval{50};
  std::atomic<std::uint64_t> next_session{1};
  // Set when the server begins to shut down, before every connection is
  // closed with 1001; a connection registered later closes itself.
  std::atomic<bool> shutting_down{false};
  // Bytes queued for clients over every connection
  // (weft_sync_outbound_queued_bytes).
  std::atomic<std::int64_t> outbound_bytes{0};
  // Called once per ended connection with why it ended: "client_closed",
  // "network", "idle_timeout", "slow_consumer", "token_expired",
  // "unauthenticated", "protocol_error", "too_large", "shutdown", "other".
  std::function<void(std::string_view reason)> on_disconnect;
  // Run with every unload sweep (weftd: the retention purge of deleted
  // documents). May be empty.
  std::function<void()> housekeeping;
  // Run every `poll_interval` (weftd: the access change feed, so that a
  // password reset made by `weft` reaches live sessions). May be empty.
  std::function<void()> poll;
  std::chrono::milliseconds poll_interval{1000};
};

}  // namespace weft::server
