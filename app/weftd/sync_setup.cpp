#include "sync_setup.h"

#include "server/api_layer.h"
#include "server/api_routes.h"

namespace weftd {

std::unique_ptr<SyncRuntime> StartSync(ApiRuntime& api,
                                       const weft::server::SyncConfig& config,
                                       weft::server::MetricsRegistry& metrics) {
  auto rt = std::make_unique<SyncRuntime>();
  rt->log = std::make_unique<weft::server::StoreDocumentLog>(*api.store);
  rt->models = std::make_unique<weft::server::DocumentModels>(
      [md = &api.store->metadata()](
          const std::string& id) -> weft::Result<std::string> {
        auto doc = md->GetDocument(id);
        if (!doc.ok()) return doc.status();
        return std::string(weft::store::DocumentKindName(doc->kind));
      });
  weft::server::HubConfig hub_config;
  hub_config.snapshot_every = config.snapshot_every;
  hub_config.snapshot_after = std::chrono::seconds(config.snapshot_after_s);
  hub_config.broadcast_interval =
      std::chrono::milliseconds(config.broadcast_interval_ms);
  rt->hub = std::make_unique<weft::server::DocumentHub>(*rt->log, *rt->models,
                                                        hub_config);
  rt->hub->ExportMetrics(metrics);
  rt->authn = std::make_unique<weft::server::JwtSyncAuthenticator>(
      *api.access_tokens, api.store->metadata());
  rt->access = std::make_unique<weft::server::MetadataDocumentAccess>(
      api.store->metadata());
  rt->service = std::make_unique<weft::server::SyncService>(
      *rt->hub, *rt->authn, *rt->access, rt->registry);
  rt->service->unload_interval = std::chrono::seconds(config.unload_interval_s);
  rt->service->max_outbound_bytes =
      static_cast<std::size_t>(config.max_outbound_bytes);
  metrics.AddCallbackGauge(
      "weft_sync_outbound_queued_bytes",
      "Bytes queued for sync clients, over every connection (payloads plus "
      "128 per frame).",
      [svc = rt->service.get()] {
        return static_cast<double>(svc->outbound_bytes.load());
      });
  rt->service->on_disconnect = [&metrics](std::string_view reason) {
    metrics
        .GetCounter("weft_sync_disconnects_total",
                    "Sync connections ended, by reason.",
                    {{"reason", std::string(reason)}})
        .Inc();
  };
  metrics.AddCallbackGauge(
      "weft_sync_connections", "Open sync (WebSocket) connections.",
      [r = &rt->registry] { return static_cast<double>(r->size()); });
  // A membership or role change reaches that user's open sessions at once.
  api.context.on_access_changed = [r = &rt->registry](const std::string& user) {
    r->AccessChanged(user);
  };
  api.context.on_access_changed_for_all = [r = &rt->registry] {
    r->AccessChangedForAll();
  };
  api.context.document_content = [h = rt->hub.get()](const std::string& id) {
    return h->ContentJson(id);
  };
  // A password reset by `weft` (another process) reaches the user's live
  // sessions through the store's access change feed within a poll.
  rt->access_feed = std::make_unique<weft::server::AccessChangeFeed>(
      api.store->metadata(),
      [r = &rt->registry](const std::string& user) {
        r->AccessChangedSoon(user);
      },
      [r = &rt->registry] { r->AccessChangedForAll(); });
  (void)rt->access_feed->Start();  // else the first poll starts it
  // Each poll also asks again for the sessions whose last access check
  // could not reach the store, so a removal seen then is not lost.
  rt->service->poll = [f = rt->access_feed.get(), r = &rt->registry] {
    (void)f->Poll();
    r->RetryRechecks();
  };
  // Deleted documents past their retention go with the unload sweep, and
  // feed entries older than a day (read within a second) too.
  rt->service->housekeeping = [ctx = &api.context, f = rt->access_feed.get()] {
    (void)weft::server::PurgeExpiredDocuments(*ctx);
    constexpr std::int64_t kDayMs = 24 * 60 * 60 * 1000;
    (void)f->Prune(weft::server::NowMs(*ctx) - kDayMs);
  };
  api.context.purge_document = [h = rt->hub.get(),
                                s = api.store.get()](const std::string& id) {
    // An append still in flight would write the document again after the
    // delete: not now (the purge sweep tries again later).
    if (!h->Forget(id)) {
      return weft::Status::Unavailable("an append of document " + id +
                                       " is still in flight");
    }
    return s->DeleteDocument(id);
  };
  return rt;
}

}  // namespace weftd
