#pragma once

// The WebSocket transport of the sync endpoint. Compiles Beast's WebSocket
// code; only http_server.cpp includes this header.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>

#include "server/sync_service.h"

namespace weft::server {

// Accepts the upgrade in `request` on `stream` and runs one sync
// connection until either side closes: a reader feeding SyncConnection, a
// writer draining a bounded outbound queue (one write in flight; over
// `max_outbound_bytes` the client is closed with 4508), WebSocket pings
// for liveness, the hello deadline and token expiry checks.
// `request` is freed once the upgrade is answered.
boost::asio::awaitable<void> RunSyncSession(
    boost::asio::ip::tcp::socket socket,
    std::unique_ptr<
        boost::beast::http::request<boost::beast::http::string_body>>
        request,
    SyncService& service);

}  // namespace weft::server
