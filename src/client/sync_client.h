#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "proto/message.h"

namespace weft::client {

// A blocking client of the sync protocol over one WebSocket connection,
// for tests, tools and the load generator. Not thread-safe: use one
// SyncClient from one thread.
class SyncClient {
 public:
  // Connects to ws://host:port/path (offering the weft.v1 subprotocol).
  // kUnavailable when the connection or the upgrade fails.
  // `receive_buffer` > 0 caps the socket's receive buffer (SO_RCVBUF, set
  // before connecting, which also stops the kernel from growing it), so a
  // test can play a slow reader without megabytes of buffering between.
  static Result<std::unique_ptr<SyncClient>> Connect(
      const std::string& host, std::uint16_t port,
      const std::string& path = "/api/v1/sync",
      std::chrono::milliseconds timeout = std::chrono::seconds(5),
      int receive_buffer = 0);
  ~SyncClient();

  Status Send(const proto::Message& message);
  // Sends raw bytes as one binary (or text) message, for tests of hostile
  // input.
  Status SendRaw(std::string_view bytes, bool text = false);

  // The next message, waiting at most `timeout`. kUnavailable on timeout
  // (message "timeout") or when the connection closed (close_code() says
  // how); kCorruption if the server sent bytes that do not decode.
  Result<proto::Message> Receive(std::chrono::milliseconds timeout);

  // Receives until a message of type T arrives (others are dropped, and
  // counted in *skipped if given).
  template <typename T>
  Result<T> ReceiveUntil(std::chrono::milliseconds timeout,
                         int* skipped = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return Status::Unavailable("timeout");
      auto m = Receive(left);
      if (!m.ok()) return m.status();
      if (auto* t = std::get_if<T>(&*m)) return *t;
      if (skipped) ++*skipped;
    }
  }

  // The close code the server sent, once the connection is closed.
  std::optional<std::uint16_t> close_code() const;
  bool is_open() const;
  // Sends a normal close (1000) and waits briefly for the server's.
  void Close();

 private:
  struct Impl;
  explicit SyncClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::client
