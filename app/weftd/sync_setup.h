#pragma once

// Wiring of the sync endpoint (GET /api/v1/sync): the document hub on the
// store's group commit, text models from the engine, authentication by the
// API's access tokens and roles from workspace memberships.

#include <memory>

#include "api_setup.h"
#include "server/connection_registry.h"
#include "server/document_hub.h"
#include "server/metrics.h"
#include "server/store_document_log.h"
#include "server/sync_auth_adapters.h"
#include "server/sync_service.h"
#include "server/text_document_model.h"

namespace weftd {

struct SyncRuntime {
  std::unique_ptr<weft::server::StoreDocumentLog> log;
  weft::server::TextDocumentModelFactory models;
  std::unique_ptr<weft::server::DocumentHub> hub;
  std::unique_ptr<weft::server::JwtSyncAuthenticator> authn;
  std::unique_ptr<weft::server::MetadataDocumentAccess> access;
  weft::server::ConnectionRegistry registry;
  std::unique_ptr<weft::server::SyncService> service;
};

// Builds the sync runtime over the API's store and token codec, exports its
// metrics and connects the API's access-change hook to live sessions.
std::unique_ptr<SyncRuntime> StartSync(ApiRuntime& api,
                                       weft::server::MetricsRegistry& metrics);

}  // namespace weftd
