#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace weft::testing {

int ConnectLoopback(std::uint16_t port, int timeout_s) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

std::string RawExchange(std::uint16_t port, const std::string& bytes) {
  int fd = ConnectLoopback(port, 30);
  if (fd < 0) return "";
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n =
        ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer and close before reading all
    sent += static_cast<std::size_t>(n);
  }
  std::string out;
  ReadUntilClosed(fd, &out);
  return out;
}

long ReadUntilClosed(int fd, std::string* out) {
  char buf[8192];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
    out->append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return static_cast<long>(n);
}

HttpReply HttpCall(std::uint16_t port, const std::string& method,
                   const std::string& path, const std::string& body,
                   const std::string& bearer) {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!bearer.empty()) req += "Authorization: Bearer " + bearer + "\r\n";
  if (!body.empty()) req += "Content-Type: application/json\r\n";
  req += "Content-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
  HttpReply reply;
  std::string raw = RawExchange(port, req);
  auto split = raw.find("\r\n\r\n");
  if (raw.size() < 12 || split == std::string::npos) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  reply.head = raw.substr(0, split);
  reply.body = raw.substr(split + 4);
  return reply;
}

}  // namespace weft::testing
