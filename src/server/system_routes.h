#pragma once

#include "server/metrics.h"
#include "server/router.h"

namespace weft::server {

// GET /livez   -> 200 {"status":"ok"} while the process serves requests.
// GET /version -> 200 {"name":"weft","version":"x.y.z","commit":"..."}.
// GET /metrics -> 200 the registry in the Prometheus text format.
// Also registers weft_build_info and process metrics in `metrics`.
void AddSystemRoutes(Router& router, MetricsRegistry& metrics);

}  // namespace weft::server
