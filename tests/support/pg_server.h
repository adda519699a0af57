#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace weft::testing {

// A throwaway PostgreSQL 15 server for tests, on a free loopback port, with
// its own data and socket directory under $TMPDIR (default /tmp), fsync on.
//
// The cluster is made with initdb (through `runuser -u postgres` when the
// tests run as root) once per machine into a cached template, which each
// server copies; the server runs as `postgres` and dies with the test
// process even if the test crashes. The destructor stops it (fast shutdown)
// and removes its directory.
//
// Set WEFT_PG_BINDIR to use other PostgreSQL binaries than
// /usr/lib/postgresql/15/bin.
class PgServer {
 public:
  static Result<std::unique_ptr<PgServer>> Start();
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  std::uint16_t port() const { return port_; }
  // libpq connection string for database `db` as the superuser, over TCP
  // on the loopback interface, or with `unix_socket` over the server's
  // Unix-domain socket (in its own directory).
  std::string ConnInfo(const std::string& db = "postgres",
                       bool unix_socket = false) const;
  // Creates a fresh database and returns its name.
  Result<std::string> CreateDatabase(const std::string& prefix = "weft_test");
  // Stops the server with a fast shutdown (sessions are terminated, what
  // is committed stays) and starts it again on the same port and data.
  Status Restart();

 private:
  PgServer() = default;
  Status Launch(std::uint16_t port);
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  int databases_ = 0;
};

}  // namespace weft::testing
