#pragma once

// The WebSocket transport of the sync endpoint: weft's own RFC 6455 framing
// (proto/ws_frame.h) directly on the TCP socket, so that an idle
// connection holds only its socket, one pending readiness wait and a few
// hundred bytes of state. Only http_server.cpp includes this header.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>

#include "server/sync_service.h"

namespace weft::server {

// What the HTTP layer keeps of a valid upgrade request.
struct WsUpgrade {
  std::string key;                  // Sec-WebSocket-Key
  bool offers_subprotocol = false;  // Sec-WebSocket-Protocol lists weft.v1
};

// Why an upgrade request cannot be accepted (empty when it can): a missing
// or malformed Sec-WebSocket-Key, or a Sec-WebSocket-Version other than 13.
std::string CheckUpgradeHeaders(std::string_view key, std::string_view version);

// Whether a Sec-WebSocket-Protocol value (a comma-separated list) holds
// `name` as one of its tokens ("weft.v10" does not offer "weft.v1").
bool OffersSubprotocol(std::string_view header, std::string_view name);

// The Sec-WebSocket-Accept value for `key` (RFC 6455 §4.2.2).
std::string WsAcceptValue(std::string_view key);

// Answers the upgrade (101) on `socket` and runs one sync connection until
// either side closes: a reader feeding SyncConnection, a writer draining a
// bounded outbound queue (over `max_outbound_bytes` the client is closed
// with 4508), keep-alive pings and the idle timeout (driven by
// ConnectionRegistry::CheckDeadlines), and the closing handshake.
boost::asio::awaitable<void> RunSyncSession(boost::asio::ip::tcp::socket socket,
                                            WsUpgrade upgrade,
                                            SyncService& service);

}  // namespace weft::server
