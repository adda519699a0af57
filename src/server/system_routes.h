#pragma once

#include "server/router.h"

namespace weft::server {

// GET /livez   -> 200 {"status":"ok"} while the process serves requests.
// GET /version -> 200 {"name":"weft","version":"x.y.z","commit":"..."}.
void AddSystemRoutes(Router& router);

}  // namespace weft::server
