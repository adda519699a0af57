#include "client/sync_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include "proto/codec.h"

namespace weft::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

}  // namespace

struct SyncClient::Impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  bool reading = false;  // an async_read is in flight
  bool read_done = false;
  boost::system::error_code read_ec;
  std::optional<std::uint16_t> close_code;
  bool open = false;

  // Runs the io_context until `done` or `timeout`.
  bool RunUntil(const bool& done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      ioc.restart();
      ioc.run_one_for(deadline - now);
    }
    return true;
  }
};

SyncClient::SyncClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyncClient::~SyncClient() = default;

Result<std::unique_ptr<SyncClient>> SyncClient::Connect(
    const std::string& host, std::uint16_t port, const std::string& path,
    std::chrono::milliseconds timeout, int receive_buffer) {
  auto impl = std::make_unique<Impl>();
  boost::system::error_code ec;
  tcp::resolver resolver(impl->ioc);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return Status::Unavailable("resolve " + host + ": " + ec.message());
  auto& lowest = beast::get_lowest_layer(impl->ws);
  bool done = false;
  lowest.expires_after(timeout);
  if (receive_buffer > 0) {
    // One endpoint, on a socket opened here: connecting to a range would
    // reopen the socket and lose the option.
    tcp::endpoint target = *endpoints.begin();
    lowest.socket().open(target.protocol(), ec);
    if (!ec) {
      lowest.socket().set_option(
          boost::asio::socket_base::receive_buffer_size(receive_buffer), ec);
    }
    if (ec) return Status::Unavailable("socket: " + ec.message());
    lowest.async_connect(target, [&](boost::system::error_code e) {
      ec = e;
      done = true;
    });
  } else {
    lowest.async_connect(
        endpoints, [&](boost::system::error_code e, const tcp::endpoint&) {
          ec = e;
          done = true;
        });
  }
  impl->RunUntil(done, timeout + std::chrono::seconds(1));
  if (!done || ec) {
    return Status::Unavailable("connect " + host + ":" + std::to_string(port) +
                               ": " + (done ? ec.message() : "timeout"));
  }
  // Each message goes out at once: with Nagle's algorithm the tail of a
  // message that takes several writes (Beast masks in chunks) waits for
  // the server's delayed ACK, up to 40 ms per message.
  lowest.socket().set_option(tcp::no_delay(true), ec);
  impl->ws.set_option(
      websocket::stream_base::decorator([](websocket::request_type& req) {
        req.set(beast::http::field::sec_websocket_protocol, "weft.v1");
      }));
  done = false;
  impl->ws.async_handshake(host, path, [&](boost::system::error_code e) {
    ec = e;
    done = true;
  });
  impl->RunUntil(done, timeout + std::chrono::seconds(1));
  if (!done || ec) {
    return Status::Unavailable("websocket upgrade failed: " +
                               (done ? ec.message() : std::string("timeout")));
  }
  lowest.expires_never();
  impl->open = true;
  return std::unique_ptr<SyncClient>(new SyncClient(std::move(impl)));
}

Status SyncClient::SendRaw(std::string_view bytes, bool text) {
  if (!impl_->open) return Status::Unavailable("connection closed");
  impl_->ws.text(text);
  bool done = false;
  boost::system::error_code ec;
  impl_->ws.async_write(asio::buffer(bytes.data(), bytes.size()),
                        [&](boost::system::error_code e, std::size_t) {
                          ec = e;
                          done = true;
                        });
  if (!impl_->RunUntil(done, std::chrono::seconds(10))) {
    return Status::Unavailable("write timeout");
  }
  if (ec) return Status::Unavailable("write: " + ec.message());
  return Status::Ok();
}

Status SyncClient::Send(const proto::Message& message) {
  return SendRaw(proto::Encode(message));
}

Result<proto::Message> SyncClient::Receive(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  if (!s.open && !s.reading) return Status::Unavailable("connection closed");
  if (!s.reading) {
    s.reading = true;
    s.read_done = false;
    s.ws.async_read(s.buffer, [&s](boost::system::error_code e, std::size_t) {
      s.read_ec = e;
      s.read_done = true;
    });
  }
  if (!s.RunUntil(s.read_done, timeout)) return Status::Unavailable("timeout");
  s.reading = false;
  if (s.read_ec) {
    s.open = false;
    // The server's close frame may have arrived even when echoing it
    // failed (the server already dropped the TCP connection).
    if (s.ws.reason().code != 0) {
      s.close_code = static_cast<std::uint16_t>(s.ws.reason().code);
    }
    return Status::Unavailable("closed: " + s.read_ec.message());
  }
  auto data = s.buffer.cdata();
  std::string bytes(static_cast<const char*>(data.data()), data.size());
  s.buffer.consume(s.buffer.size());
  return proto::Decode(bytes);
}

std::optional<std::uint16_t> SyncClient::close_code() const {
  return impl_->close_code;
}

bool SyncClient::is_open() const { return impl_->open; }

void SyncClient::Close() {
  Impl& s = *impl_;
  if (!s.open) return;
  bool done = false;
  s.ws.async_close(websocket::close_code::normal,
                   [&](boost::system::error_code) { done = true; });
  s.RunUntil(done, std::chrono::seconds(2));
  s.open = false;
}

}  // namespace weft::client
