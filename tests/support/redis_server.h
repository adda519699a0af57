#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace weft::testing {

// A throwaway Redis server for tests on a free loopback port, without
// persistence, in its own temporary directory. It dies with the test process
// even if the test crashes; the destructor stops it and removes its files.
class RedisServer {
 public:
  static Result<std::unique_ptr<RedisServer>> Start();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }

 private:
  RedisServer() = default;
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace weft::testing
