#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace weft::server {

// Beast-free views of an HTTP exchange, so that routes and their tests do
// not compile Beast (one Beast translation unit costs ~40 s).

// Header names are stored lower-case.
using HeaderMap = std::map<std::string, std::string>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target, e.g. "/api/v1/x?q=1"
  std::string path;    // target without the query string
  std::string query;   // text after '?', or empty
  HeaderMap headers;   // lower-case names
  std::string body;
  std::string request_id;  // accepted from X-Request-Id or generated
  std::string remote;      // peer address, "ip:port"

  // Value of a header (name in any case), or empty.
  std::string Header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
};

}  // namespace weft::server
