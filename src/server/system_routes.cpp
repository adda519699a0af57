#include "server/system_routes.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "common/build_info.h"

namespace weft::server {
namespace {

HttpResponse Json(const boost::json::object& body) {
  HttpResponse r;
  r.body = boost::json::serialize(body);
  return r;
}

double ResidentBytes() {
  // /proc/self/statm: size resident shared ... (in pages).
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<double>(resident) *
         static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace

void AddSystemRoutes(Router& router, MetricsRegistry& metrics) {
  metrics
      .GetGauge("weft_build_info", "Version and commit of this binary.",
                {{"version", std::string(Version())},
                 {"commit", std::string(GitCommit())}})
      .Set(1);
  double start = std::chrono::duration<double>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  metrics
      .GetGauge("process_start_time_seconds",
                "Start time of the process since the Unix epoch.")
      .Set(start);
  metrics.AddCallbackGauge("process_resident_memory_bytes",
                           "Resident memory of the process.", ResidentBytes);
  router.Add("GET", "/metrics",
             [&metrics](const HttpRequest&, const PathParams&) {
               HttpResponse r;
               r.content_type = "text/plain; version=0.0.4; charset=utf-8";
               r.body = metrics.Render();
               return r;
             });
  router.Add("GET", "/livez", [](const HttpRequest&, const PathParams&) {
    return Json({{"status", "ok"}});
  });
  router.Add("GET", "/version", [](const HttpRequest&, const PathParams&) {
    return Json(
        {{"name", "weft"}, {"version", Version()}, {"commit", GitCommit()}});
  });
}

}  // namespace weft::server
