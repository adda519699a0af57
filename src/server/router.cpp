#include "server/router.h"

#include <utility>

#include "server/api_error.h"

namespace weft::server {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::Add(std::string method, std::string_view pattern,
                 Handler handler) {
  Route route{std::move(method), std::string(pattern), {}, std::move(handler)};
  for (auto s : Split(pattern)) route.segments.emplace_back(s);
  routes_.push_back(std::move(route));
}

void Router::SetFallback(Fallback fallback) { fallback_ = std::move(fallback); }

bool Router::Match(const Route& route,
                   const std::vector<std::string_view>& path,
                   PathParams* params) {
  if (route.segments.size() != path.size()) return false;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& seg = route.segments[i];
    if (IsParam(seg)) {
      if (params)
        (*params)[seg.substr(1, seg.size() - 2)] = std::string(path[i]);
    } else if (seg != path[i]) {
      return false;
    }
  }
  return true;
}

HttpResponse Router::Dispatch(const HttpRequest& request,
                              std::string* route_label) const {
  auto path = Split(request.path);
  if (route_label) *route_label = "unmatched";
  std::string allowed;
  for (const Route& route : routes_) {
    if (!Match(route, path, nullptr)) continue;
    if (route.method == request.method ||
        (request.method == "HEAD" && route.method == "GET")) {
      PathParams params;
      Match(route, path, &params);
      if (route_label) *route_label = route.pattern;
      return route.handler(request, params);
    }
    if (!allowed.empty()) allowed += ", ";
    allowed += route.method;
  }
  if (!allowed.empty()) {
    HttpResponse r =
        ErrorResponse(405, "method_not_allowed",
                      request.method + " is not allowed on " + request.path,
                      request.request_id);
    r.headers.emplace_back("Allow", allowed);
    return r;
  }
  if (fallback_) {
    if (auto answer = fallback_(request)) {
      if (route_label) *route_label = "fallback";
      return std::move(*answer);
    }
  }
  return ErrorResponse(404, "not_found",
                       "no route for " + request.method + " " + request.path,
                       request.request_id);
}

}  // namespace weft::server
