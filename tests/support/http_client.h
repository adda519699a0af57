#pragma once

#include <cstdint>
#include <string>

namespace weft::testing {

// A minimal blocking HTTP/1.1 client for end-to-end tests: one request per
// connection (Connection: close) to 127.0.0.1.
struct HttpReply {
  int status = 0;  // 0 when no answer
  std::string head;
  std::string body;
};

// A blocking TCP connection to 127.0.0.1:port whose reads give up after
// `timeout_s` without data; -1 when refused. The caller closes it.
int ConnectLoopback(std::uint16_t port, int timeout_s);

// Appends to `*out` what `fd` receives until the peer closes it (or a read
// times out), then closes `fd`. Returns the last recv() result: 0 when the
// peer closed, -1 when a read failed or timed out.
long ReadUntilClosed(int fd, std::string* out);

// Sends raw bytes to 127.0.0.1:port and reads until the server closes (or
// 30 s pass without data). Empty when the connection is refused.
std::string RawExchange(std::uint16_t port, const std::string& bytes);

HttpReply HttpCall(std::uint16_t port, const std::string& method,
                   const std::string& path, const std::string& body = "",
                   const std::string& bearer = "");

}  // namespace weft::testing
