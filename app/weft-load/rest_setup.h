#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace weft::load {

// host and port of an http:// base URL. kInvalidArgument otherwise.
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};
Result<Endpoint> ParseHttpUrl(const std::string& url);

struct RestReply {
  int status = 0;
  std::string body;
};

// A blocking HTTP/1.1 client on one keep-alive connection, for setting up
// a load run through the REST API (docs/openapi.yaml). Answers 429 by
// waiting for Retry-After and trying again; reconnects once when a kept
// connection was closed. Not thread-safe: one per thread.
class RestClient {
 public:
  explicit RestClient(Endpoint endpoint);
  ~RestClient();
  // kUnavailable when there is no answer.
  Result<RestReply> Call(const std::string& method, const std::string& target,
                         const std::string& body = "",
                         const std::string& bearer = "");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct Account {
  std::string user_id, email, password, access_token;
};

// What a load run works on: accounts (the first owns the workspace, the
// others joined it as editors through invitations) and text documents.
struct LoadSetup {
  std::vector<Account> accounts;
  std::string workspace_id;
  std::vector<std::string> docs;
};

// Registers `accounts` users named after `tag`, creates a workspace and
// `docs` text documents (spread over the accounts and `parallel` threads).
Result<LoadSetup> SetUpThroughRest(const Endpoint& endpoint, int accounts,
                                   int docs, const std::string& tag,
                                   int parallel);

// GET /api/v1/documents/{id}/content: the text.
Result<std::string> FetchText(RestClient& rest, const std::string& doc,
                              const std::string& token);

// process_resident_memory_bytes from GET /metrics (0 when missing).
Result<double> FetchServerRss(RestClient& rest);

}  // namespace weft::load
