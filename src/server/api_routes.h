#pragma once

// The REST API of accounts, workspaces and documents (docs/openapi.yaml).
// Every route goes through AddApiRoute (api_layer.h): one authorisation
// check, rate limits, idempotency keys and the standard error shape.

#include "server/api_context.h"
#include "server/router.h"

namespace weft::server {

// /api/v1/auth/* and /api/v1/me*: sessions, passwords, the caller's profile.
void AddAccountRoutes(Router& router, ApiContext& api);
// /api/v1/workspaces*, members, invitations, activity.
void AddWorkspaceRoutes(Router& router, ApiContext& api);
// /api/v1/workspaces/{id}/documents and /api/v1/documents/*.
void AddDocumentRoutes(Router& router, ApiContext& api);
// GET /readyz and GET /api/v1/openapi.json (`openapi_json`: the spec as
// JSON, served verbatim; empty = the route answers 404).
void AddApiSystemRoutes(Router& router, ApiContext& api,
                        std::string openapi_json);

// All of the above. `api` must outlive `router`.
void AddApiRoutes(Router& router, ApiContext& api, std::string openapi_json);

// Deletes for good the documents soft-deleted longer ago than the
// retention (they can no longer be restored): their content
// (ApiContext::purge_document), then their row. Up to `limit` per call,
// oldest first; returns how many went, or the first error.
Result<std::size_t> PurgeExpiredDocuments(ApiContext& api,
                                          std::size_t limit = 100);

}  // namespace weft::server
