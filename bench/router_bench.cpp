// How long the HTTP router takes to find a handler, per request.
#include <benchmark/benchmark.h>

#include <string>

#include "server/router.h"
#include "server/system_routes.h"

namespace weft::server {
namespace {

Router MakeRouter() {
  static MetricsRegistry metrics;
  Router router;
  AddSystemRoutes(router, metrics);
  const char* resources[] = {"workspaces", "documents", "invitations",
                             "me",         "auth",      "activity",
                             "members",    "content"};
  for (const char* r : resources) {
    std::string base = std::string("/api/v1/") + r;
    for (const char* m : {"GET", "POST"}) {
      router.Add(m, base, [](const HttpRequest&, const PathParams&) {
        return HttpResponse{};
      });
      router.Add(m, base + "/{id}", [](const HttpRequest&, const PathParams&) {
        return HttpResponse{};
      });
    }
  }
  return router;
}

void BM_DispatchParameterRoute(benchmark::State& state) {
  Router router = MakeRouter();
  HttpRequest req;
  req.method = "GET";
  req.path = "/api/v1/content/0123456789abcdef";
  for (auto _ : state) benchmark::DoNotOptimize(router.Dispatch(req));
}
BENCHMARK(BM_DispatchParameterRoute);

void BM_DispatchNotFound(benchmark::State& state) {
  Router router = MakeRouter();
  HttpRequest req;
  req.method = "GET";
  req.path = "/api/v2/unknown/path";
  for (auto _ : state) benchmark::DoNotOptimize(router.Dispatch(req));
}
BENCHMARK(BM_DispatchNotFound);

}  // namespace
}  // namespace weft::server
