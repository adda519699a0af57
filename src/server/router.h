#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_message.h"

namespace weft::server {

// Values of the `{name}` segments of a matched route pattern.
using PathParams = std::map<std::string, std::string>;

using Handler =
    std::function<HttpResponse(const HttpRequest&, const PathParams&)>;

// Asked about a request no route matches; nullopt lets the router answer its
// 404 (e.g. the static files of the web app).
using Fallback = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

// Maps (method, path pattern) to handlers. Patterns are literal segments and
// `{name}` segments that match one non-empty segment: "/api/v1/documents/{id}".
// Unknown paths answer 404 `not_found`; a known path with another method
// answers 405 `method_not_allowed` with an Allow header. Both in the
// standard error shape.
//
// Build it before serving; Dispatch is then safe from any number of threads.
class Router {
 public:
  void Add(std::string method, std::string_view pattern, Handler handler);
  // Called for a path that matches no route (its route label is "fallback"
  // when it answers). Only one; a second call replaces the first.
  void SetFallback(Fallback fallback);
  // Runs the matching handler. `route`, when given, receives the matched
  // pattern ("/api/v1/documents/{id}"), or "unmatched": a label for metrics
  // whose number of values is bounded by the number of routes.
  HttpResponse Dispatch(const HttpRequest& request,
                        std::string* route = nullptr) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool Match(const Route& route,
                    const std::vector<std::string_view>& path,
                    PathParams* params);
  std::vector<Route> routes_;
  Fallback fallback_;
};

}  // namespace weft::server
