#include "server/api_routes.h"

#include <boost/json/object.hpp>

#include "server/api_error.h"
#include "server/api_layer.h"

namespace weft::server {

void AddApiSystemRoutes(Router& router, ApiContext& api,
                        std::string openapi_json) {
  router.Add("GET", "/readyz",
             [&api](const HttpRequest& request, const PathParams&) {
               Status s = api.check_ready ? api.check_ready() : Status::Ok();
               // The store's own message stays out of the answer: anyone
               // may ask, and a PostgreSQL error names hosts and users.
               if (!s.ok()) {
                 return ErrorResponse(503, "not_ready",
                                      "the store is not reachable or not "
                                      "migrated",
                                      request.request_id);
               }
               return JsonResponse(boost::json::object{{"status", "ready"}});
             });
  router.Add("GET", "/api/v1/openapi.json",
             [spec = std::move(openapi_json)](const HttpRequest& request,
                                              const PathParams&) {
               if (spec.empty()) {
                 return ErrorResponse(404, "not_found",
                                      "this build carries no API description",
                                      request.request_id);
               }
               HttpResponse r;
               r.body = spec;
               return r;
             });
}

void AddApiRoutes(Router& router, ApiContext& api, std::string openapi_json) {
  AddAccountRoutes(router, api);
  AddWorkspaceRoutes(router, api);
  AddDocumentRoutes(router, api);
  AddApiSystemRoutes(router, api, std::move(openapi_json));
}

}  // namespace weft::server
