#include "server/system_routes.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/build_info.h"

namespace weft::server {
namespace {

HttpResponse Json(const boost::json::object& body) {
  HttpResponse r;
  r.body = boost::json::serialize(body);
  return r;
}

}  // namespace

void AddSystemRoutes(Router& router) {
  router.Add("GET", "/livez", [](const HttpRequest&, const PathParams&) {
    return Json({{"status", "ok"}});
  });
  router.Add("GET", "/version", [](const HttpRequest&, const PathParams&) {
    return Json(
        {{"name", "weft"}, {"version", Version()}, {"commit", GitCommit()}});
  });
}

}  // namespace weft::server
