#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "proto/message.h"
#include "server/document_log.h"
#include "server/document_model.h"
#include "server/metrics.h"

namespace weft::server {

// One subscriber of documents: a sync connection. Send queues an encoded
// frame for the client; it is thread-safe and never blocks (the transport
// bounds its queue and disconnects a slow consumer).
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual void Send(std::shared_ptr<const std::string> frame) = 0;
  // A frame of a subscription's catch-up (snapshot, missed ops): bounded by
  // the document's size, so it does not count against the slow-consumer
  // limit, which would otherwise stop a far-behind client from ever
  // resuming.
  virtual void SendCatchUp(std::shared_ptr<const std::string> frame) {
    Send(std::move(frame));
  }
  virtual std::uint64_t session_id() const = 0;
  // The user whose changes these are, recorded in the log.
  virtual std::string user_id() const { return {}; }
  // When the client last sent anything (pings included); a subscriber
  // silent for HubConfig::presence_timeout loses its presence. The default
  // never goes silent.
  virtual std::chrono::steady_clock::time_point last_heard() const {
    return std::chrono::steady_clock::time_point::max();
  }
};

struct HubConfig {
  // Take a snapshot (and let the log compact) once this many operations
  // were logged since the last one, at the next moment the document has no
  // write in flight.
  std::uint64_t snapshot_every = 1000;
  // ... or once the oldest entry not in a snapshot is this old (checked
  // after appends and by SnapshotStale); zero turns this off.
  std::chrono::steady_clock::duration snapshot_after = std::chrono::minutes(5);
  // An idle document with at least this many log entries since its last
  // snapshot is snapshotted before it is unloaded (so that its next load is
  // fast); one with fewer is unloaded at once.
  std::size_t unload_snapshot_min = 64;
  // Largest number of changes in one submit.
  std::size_t max_changes_per_submit = 1024;
  // Most changes of one document in one durable append (whole submits; one
  // submit larger than this still goes alone). What is queued beyond it
  // goes in the next append.
  std::size_t max_append_changes = 4096;
  // Durable changes of a document that follow its last broadcast by less
  // than this wait for FlushBroadcasts (the server calls it at this
  // interval), so that under a stream of edits each subscriber gets one
  // `ops` message per interval; after a quiet spell changes go out at once.
  // Zero: every durable batch is broadcast at once.
  std::chrono::microseconds broadcast_interval{0};
  // Largest presence state in bytes.
  std::size_t max_presence_bytes = 2048;
  // A subscriber whose client sent nothing for this long (a silent drop
  // the transport has not noticed yet) loses its presence: the others get
  // `presence_gone`. ExpirePresence applies it.
  std::chrono::milliseconds presence_timeout{30'000};
};

// The live documents of this node: loads a document on first subscription
// (snapshot + trailing log entries), validates and applies submitted
// changes, has them sequenced and made durable through the DocumentLog one
// batch at a time per document (changes arriving meanwhile form the next
// batch), and only then acknowledges them to their submitters and
// broadcasts them, encoded once, to every subscriber in sequence order.
// Snapshots are taken when a document is quiet; idle documents are
// unloaded by UnloadIdle(), which returns their memory.
//
// Thread-safe: any connection may call any method from any thread. Each
// document has its own lock; frames are queued to subscribers under it, so
// every subscriber sees a document's frames in sequence order.
class DocumentHub {
 public:
  DocumentHub(DocumentLog& log, DocumentModelFactory& models,
              HubConfig config = {});
  // Counts logged changes (weft_sync_ops_total), the time from submit to
  // acknowledgement (weft_sync_ack_latency_seconds), durable appends
  // (weft_sync_append_seconds) and snapshots
  // (weft_sync_snapshot_seconds); loaded and subscribed documents are
  // gauges read at render time. Call before serving.
  void ExportMetrics(MetricsRegistry& metrics);

  // Documents with at least one subscriber.
  std::size_t subscribed_documents() const;
  // Waits for the appends in flight (see ~DocumentHub).
  ~DocumentHub();

  // For the server's shutdown, once its I/O threads have stopped and
  // before the sockets subscribers write to are destroyed: waits for the
  // appends in flight (they end within a commit), then forgets every
  // subscriber, so that nothing writes to them any more and none outlives
  // its I/O context here. Sessions still open when the grace period ended
  // are subscribed then.
  void Shutdown();

  // For a document whose content is about to be deleted (its workspace
  // was): unsubscribes whoever is still subscribed (410), forgets it, and
  // returns once no append of it is in flight, so that nothing writes to
  // it after the caller deletes it: true then, false when one still was
  // after `wait` (a stalled store; the caller must not delete yet).
  bool Forget(const std::string& doc,
              std::chrono::milliseconds wait = std::chrono::seconds(30));

  // Subscribes `sub` with `role`, loading the document if needed, and sends
  // it `subscribed`, what it misses after `since_seq` (the stored snapshot
  // when it is further behind than the log kept in memory), and `synced`.
  // kUnavailable/kCorruption when the document cannot be loaded.
  Status Subscribe(const std::string& doc, std::uint64_t since_seq,
                   proto::Role role, std::shared_ptr<Subscriber> sub);

  // Ends a subscription; others get `presence_gone` for it.
  void Unsubscribe(const std::string& doc, const Subscriber* sub);
  // Whether `sub` is subscribed to `doc`: false after the hub dropped the
  // document (unsubscribed 503), which its connection learns only here.
  bool HasSubscriber(const std::string& doc, const Subscriber* sub);

  // Validates and queues `changes` from `sub`. Returns an error frame to
  // send now (forbidden, out_of_order, invalid_update, too many changes,
  // or unavailable when `sub` is not subscribed: the caller checks that it
  // subscribed, so its subscription went with a dropped document); changes
  // before the refused one are still processed.
  // Accepted changes are acknowledged later by `ack` frames.
  std::optional<proto::Error> Submit(const std::string& doc,
                                     const Subscriber* sub,
                                     std::vector<proto::Change> changes);

  // Records `sub`'s presence. The other subscribers get it at the next
  // FlushPresence, so updates coalesce: however many arrive between two
  // flushes, one `presence_of` with the latest state goes out. An empty
  // state takes the presence back: `presence_gone` then, if the others
  // were shown one.
  std::optional<proto::Error> SetPresence(const std::string& doc,
                                          const Subscriber* sub,
                                          std::string state);
  // Broadcasts the changes documents hold back (HubConfig::
  // broadcast_interval). Returns how many documents sent some.
  std::size_t FlushBroadcasts();
  // How often FlushBroadcasts must be called; zero: never.
  std::chrono::microseconds broadcast_interval() const {
    return config_.broadcast_interval;
  }
  // Forwards every presence recorded since the last flush (the server calls
  // it every 50 ms). Returns how many `presence_of` were built.
  std::size_t FlushPresence();
  // Clears the presence of subscribers silent since before
  // now - presence_timeout and tells the others (`presence_gone`). Returns
  // how many were cleared.
  std::size_t ExpirePresence(std::chrono::steady_clock::time_point now);

  // Live permissions: a new role for a subscription, or none (removed):
  // then `unsubscribed(code, message)` is sent and the subscription ends.
  void SetRole(const std::string& doc, const Subscriber* sub,
               std::optional<proto::Role> role, std::uint64_t code = 0,
               const std::string& message = "");

  // Unloads every document with no subscribers and no work in flight
  // (snapshotting first when entries were logged since the last snapshot;
  // such a document is unloaded by a later call). Returns how many were
  // unloaded.
  std::size_t UnloadIdle();

  // Whether some document has changes submitted and not yet durable and
  // answered (an append in flight, or queued behind one). Shutdown waits
  // until none has before it closes the connections, so that the acks go
  // out.
  bool AnyAppendInFlight();

  // Snapshots every quiet document whose oldest entry not in a snapshot is
  // older than HubConfig::snapshot_after at `now` (the server calls it
  // with UnloadIdle). Returns how many snapshots were started.
  std::size_t SnapshotStale(std::chrono::steady_clock::time_point now);

  std::size_t loaded_documents() const;

  // The document's content as JSON (loads it if needed).
  Result<std::string> ContentJson(const std::string& doc);

 private:
  struct Live;
  Result<std::shared_ptr<Live>> GetOrLoad(const std::string& doc);
  std::shared_ptr<Live> Find(const std::string& doc) const;
  // Every loaded document, copied out under mu_.
  std::vector<std::shared_ptr<Live>> AllLive() const;
  // Until no append is in flight and no append callback still runs (up
  // to 30 s).
  void WaitForAppends();
  void StartAppend(const std::shared_ptr<Live>& live);
  void OnAppended(const std::shared_ptr<Live>& live,
                  Result<std::vector<std::uint64_t>> result);
  // Snapshots a quiet document with at least `min_entries` log entries
  // since its last snapshot. Returns whether a snapshot was started.
  // Also when the oldest such entry is older than HubConfig::snapshot_after.
  bool TrySnapshot(const std::shared_ptr<Live>& live, std::size_t min_entries,
                   std::chrono::steady_clock::time_point now =
                       std::chrono::steady_clock::now());
  // Ends every subscription of a document that can no longer be trusted
  // (its durable state does not load) and forgets it. Under live.mu.
  void Drop(Live& live, proto::ErrorCode code, const std::string& message);

  // Appends given to the log whose callback has not returned, per document
  // id, whatever became of their document (a Drop takes it out of the map
  // while its append goes on, and the callback still uses this hub).
  // Guarded by pending_mu_.
  std::mutex pending_mu_;
  std::map<std::string, int> pending_by_doc_;
  void CountAppend(const std::string& doc, int delta);
  bool AppendPending(const std::string& doc);
  Counter* ops_total_ = nullptr;
  Histogram* ack_latency_ = nullptr;
  Histogram* append_seconds_ = nullptr;
  Histogram* snapshot_seconds_ = nullptr;

  DocumentLog& log_;
  DocumentModelFactory& models_;
  HubConfig config_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Live>> docs_;  // guarded by mu_
  // Documents with presence to forward at the next flush.
  std::mutex presence_mu_;
  std::vector<std::weak_ptr<Live>> presence_dirty_;  // guarded by presence_mu_
  // Documents with changes in their outbox.
  std::mutex broadcast_mu_;
  std::vector<std::weak_ptr<Live>>
      broadcast_dirty_;  // guarded by broadcast_mu_
};

}  // namespace weft::server
