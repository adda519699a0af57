#pragma once

// Wiring of the sync endpoint (GET /api/v1/sync): the document hub on the
// store's group commit, engine models by document kind, authentication by the
// API's access tokens and roles from workspace memberships.

#include <memory>

#include "api_setup.h"
#include "server/access_change_feed.h"
#include "server/connection_registry.h"
#include "server/document_hub.h"
#include "server/document_models.h"
#include "server/metrics.h"
#include "server/server_config.h"
#include "server/store_document_log.h"
#include "server/sync_auth_adapters.h"
#include "server/sync_service.h"

namespace weftd {

struct SyncRuntime {
  std::unique_ptr<weft::server::StoreDocumentLog> log;
  std::unique_ptr<weft::server::DocumentModels> models;
  std::unique_ptr<weft::server::DocumentHub> hub;
  std::unique_ptr<weft::server::JwtSyncAuthenticator> authn;
  std::unique_ptr<weft::server::MetadataDocumentAccess> access;
  weft::server::ConnectionRegistry registry;
  std::unique_ptr<weft::server::SyncService> service;
  std::unique_ptr<weft::server::AccessChangeFeed> access_feed;
};

// Builds the sync runtime over the API's store and token codec, exports its
// metrics and connects the API's access-change hook to live sessions.
std::unique_ptr<SyncRuntime> StartSync(ApiRuntime& api,
                                       const weft::server::SyncConfig& config,
                                       weft::server::MetricsRegistry& metrics);

}  // namespace weftd
