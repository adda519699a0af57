#include "server/document_hub.h"

#include <atomic>

#include <chrono>
#include <limits>
#include <thread>
#include <utility>

#include "proto/codec.h"
#include "server/client_owners.h"

namespace weft::server {
namespace {

using Frame = std::shared_ptr<const std::string>;

Frame ToFrame(const proto::Message& m) {
  return std::make_shared<const std::string>(proto::Encode(m));
}

proto::Error MakeError(proto::ErrorCode code, const std::string& doc,
                       std::string message, std::uint64_t expected = 0) {
  return proto::Error{static_cast<std::uint64_t>(code), doc, std::move(message),
                      expected};
}

// The answer to a subscriber's message for a document the hub no longer
// holds: its connection saw a subscription, so the hub dropped the document
// (unsubscribed 503). Retryable, not "no such document", on which a client
// forgets its edits.
proto::Error Unloaded(const std::string& doc) {
  return MakeError(proto::ErrorCode::kUnavailable, doc,
                   "the document was unloaded; subscribe again");
}

}  // namespace

struct DocumentHub::Live {
  std::mutex mu;
  std::string id;
  // Set (under mu) once loaded; read without it by the sweeps, which must
  // not wait for a load: GetOrLoad holds mu across the store's read.
  std::atomic<bool> loaded{false};
  bool unloaded = false;  // removed from the hub; reload on next use
  std::unique_ptr<DocumentModel> model;
  std::uint64_t head = 0;                  // last durable sequence number
  std::optional<StoredSnapshot> snapshot;  // latest durable snapshot
  std::vector<LogEntry> entries;           // durable entries after it
  // When the first of `entries` was logged (meaningless while empty).
  std::chrono::steady_clock::time_point oldest_entry_at;
  // Whose each client id is: from the log, then as changes are applied.
  ClientOwners owners;

  struct Sub {
    std::shared_ptr<Subscriber> sub;
    proto::Role role;
    std::string presence;
    bool presence_dirty = false;  // not forwarded yet
    bool presence_shown = false;  // forwarded, not taken back since
  };
  std::map<const Subscriber*, Sub> subs;
  bool presence_queued = false;  // in the hub's presence_dirty_

  // Durable changes not broadcast yet (HubConfig::broadcast_interval),
  // contiguous from outbox.first_seq, and when the last broadcast went out
  // (none yet: not the clock's epoch, which is the machine's boot).
  proto::Ops outbox;
  bool broadcast_queued = false;  // in the hub's broadcast_dirty_
  std::optional<std::chrono::steady_clock::time_point> last_broadcast;

  // Sends what the outbox holds to every subscriber. Under mu.
  // Adds durable changes, contiguous after what it holds, to the outbox.
  void HoldBack(proto::Ops ops) {
    if (ops.changes.empty()) return;
    if (outbox.changes.empty()) {
      outbox.first_seq = ops.first_seq;
      outbox.changes = std::move(ops.changes);
    } else {
      for (auto& c : ops.changes) outbox.changes.push_back(std::move(c));
    }
  }
  void FlushOutbox(std::chrono::steady_clock::time_point now) {
    if (outbox.changes.empty()) return;
    last_broadcast = now;
    Frame frame = ToFrame(outbox);
    outbox.changes.clear();
    for (auto& [ptr, sub] : subs) sub.sub->Send(frame);
  }

  // A submit's accepted changes, applied to the model, not yet durable.
  struct Batch {
    std::weak_ptr<Subscriber> from;
    std::string user_id;
    std::vector<proto::Change> changes;
    std::chrono::steady_clock::time_point queued_at =
        std::chrono::steady_clock::now();
  };
  std::vector<Batch> queued;     // wait for the next append
  std::vector<Batch> in_flight;  // being appended now
  bool appending = false;
  bool snapshotting = false;

  // Moves queued batches, oldest first, into in_flight: whole batches, at
  // least one, until `max_changes` changes are taken. Under a flood the
  // appends stay small, so acknowledgements keep flowing instead of waiting
  // for one ever larger transaction.
  void TakeQueued(std::size_t max_changes) {
    std::size_t taken = 0, n = 0;
    while (n < queued.size() &&
           (n == 0 || taken + queued[n].changes.size() <= max_changes)) {
      taken += queued[n].changes.size();
      ++n;
    }
    in_flight.assign(std::make_move_iterator(queued.begin()),
                     std::make_move_iterator(queued.begin() +
                                             static_cast<std::ptrdiff_t>(n)));
    queued.erase(queued.begin(),
                 queued.begin() + static_cast<std::ptrdiff_t>(n));
  }

  // Rebuilds the model from durable state plus in-flight and queued changes
  // (after a failed append or a change that failed to apply). Changes that
  // no longer apply are dropped; their submitters are told to retry.
  Status Rebuild(DocumentModelFactory& models, bool keep_in_flight);
};

namespace {

// A document that is never quiet is snapshotted once its log is this many
// times HubConfig::snapshot_every long (TrySnapshot).
constexpr std::size_t kBusySnapshotFactor = 16;

// Applies the durable entries after a snapshot to a model loaded from it.
Status ReplayDurable(DocumentModel& fresh,
                     const std::vector<LogEntry>& entries) {
  for (const LogEntry& e : entries) {
    if (e.change.first_seq + e.change.span <=
        fresh.NextSeq(e.change.client_id)) {
      continue;  // folded into the snapshot already
    }
    WEFT_RETURN_IF_ERROR(fresh.ApplyDurable(e.change));
  }
  return Status::Ok();
}

}  // namespace

Status DocumentHub::Live::Rebuild(DocumentModelFactory& models,
                                  bool keep_in_flight) {
  std::optional<std::string_view> snap;
  if (snapshot) snap = snapshot->state;
  // A loaded document knows its kind; only a first load asks the factory
  // (which may ask the store). Rebuilds run under the document's lock.
  auto fresh = model ? model->Loader()(snap) : models.Load(id, snap);
  if (!fresh.ok()) return fresh.status();
  WEFT_RETURN_IF_ERROR(ReplayDurable(**fresh, entries));
  auto replay = [&](std::vector<Batch>& batches) {
    for (Batch& b : batches) {
      std::vector<proto::Change> kept;
      for (proto::Change& c : b.changes) {
        bool duplicate = c.first_seq + c.span <= (*fresh)->NextSeq(c.client_id);
        if (duplicate || (*fresh)->Apply(c).ok()) {
          kept.push_back(std::move(c));
        } else if (auto s = b.from.lock()) {
          s->Send(ToFrame(MakeError(proto::ErrorCode::kUnavailable, id,
                                    "change dropped; resubscribe and resend")));
        }
      }
      b.changes = std::move(kept);
    }
  };
  if (keep_in_flight) replay(in_flight);
  replay(queued);
  model = std::move(*fresh);
  return Status::Ok();
}

DocumentHub::DocumentHub(DocumentLog& log, DocumentModelFactory& models,
                         HubConfig config)
    : log_(log), models_(models), config_(config) {}

DocumentHub::~DocumentHub() {
  // Appends in flight call back into the hub: wait for them (they end
  // within a commit) so that shutdown drains accepted work.
  WaitForAppends();
}

namespace {

// Polls `busy` every millisecond until it is false, for at most `wait`.
template <typename F>
void WaitWhile(F busy,
               std::chrono::milliseconds wait = std::chrono::seconds(30)) {
  for (std::int64_t i = 0; i < wait.count() && busy(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

void DocumentHub::WaitForAppends() {
  // An append counts from when it is set going (under the document's
  // lock, with `appending`) until its callback has returned, also for a
  // document dropped meanwhile.
  WaitWhile([this] { return AnyAppendInFlight(); });
}

void DocumentHub::CountAppend(const std::string& doc, int delta) {
  std::lock_guard lock(pending_mu_);
  int& n = pending_by_doc_[doc];
  n += delta;
  if (n == 0) pending_by_doc_.erase(doc);
}

bool DocumentHub::AppendPending(const std::string& doc) {
  std::lock_guard lock(pending_mu_);
  return pending_by_doc_.count(doc) != 0;
}

bool DocumentHub::AnyAppendInFlight() {
  // Queued changes imply an append going (Submit and OnAppended start one
  // whenever some wait), and a dropped document's append stays counted.
  std::lock_guard lock(pending_mu_);
  return !pending_by_doc_.empty();
}

bool DocumentHub::Forget(const std::string& doc,
                         std::chrono::milliseconds wait) {
  if (auto live = Find(doc)) {
    std::lock_guard lock(live->mu);
    if (!live->unloaded) {
      Drop(*live, proto::ErrorCode::kAccessRemoved, "the document was deleted");
    }
  }
  // Also for a document dropped earlier (here, on an earlier try, or on a
  // failed rebuild): it is no longer found, but its append may go on.
  WaitWhile([&] { return AppendPending(doc); }, wait);
  return !AppendPending(doc);
}

void DocumentHub::Shutdown() {
  WaitForAppends();
  for (auto& live : AllLive()) {
    std::map<const Subscriber*, Live::Sub> subs;
    {
      std::lock_guard lock(live->mu);
      subs.swap(live->subs);
    }
    // Released outside the lock: a subscriber's last reference may go here.
  }
}

std::shared_ptr<DocumentHub::Live> DocumentHub::Find(
    const std::string& doc) const {
  std::lock_guard lock(mu_);
  auto it = docs_.find(doc);
  return it == docs_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<DocumentHub::Live>> DocumentHub::GetOrLoad(
    const std::string& doc) {
  std::shared_ptr<Live> live;
  {
    std::lock_guard lock(mu_);
    auto& slot = docs_[doc];
    if (!slot) {
      slot = std::make_shared<Live>();
      slot->id = doc;
      slot->outbox.doc = doc;
    }
    live = slot;
  }
  // Callers lock live->mu next; loading happens under it, so concurrent
  // first subscribers wait for one load instead of loading twice.
  std::unique_lock lock(live->mu);
  if (live->loaded) return live;
  auto history = log_.Read(doc);
  Status status = history.status();
  if (history.ok()) {
    live->snapshot = std::move(history->snapshot);
    live->entries = std::move(history->entries);
    // When they were logged is not known: count their age from now.
    live->oldest_entry_at = std::chrono::steady_clock::now();
    live->head = history->head_seq;
    for (const auto& [client, user] : history->writers) {
      live->owners.Add(client, user);
    }
    status = live->Rebuild(models_, false);
  }
  if (!status.ok()) {
    live->unloaded = true;
    std::lock_guard hub_lock(mu_);
    auto it = docs_.find(doc);
    if (it != docs_.end() && it->second == live) docs_.erase(it);
    return status;
  }
  live->loaded = true;
  return live;
}

Status DocumentHub::Subscribe(const std::string& doc, std::uint64_t since_seq,
                              proto::Role role,
                              std::shared_ptr<Subscriber> sub) {
  for (;;) {
    auto loaded = GetOrLoad(doc);
    if (!loaded.ok()) return loaded.status();
    std::shared_ptr<Live> live = *loaded;
    std::lock_guard lock(live->mu);
    if (live->unloaded) continue;  // raced with UnloadIdle: load again

    // The others get what is waiting in the outbox first: the newcomer's
    // catch-up covers it, and nobody may see a change twice or out of order.
    live->FlushOutbox(std::chrono::steady_clock::now());
    sub->Send(ToFrame(proto::Subscribed{doc, role, live->head}));
    std::uint64_t base = live->snapshot ? live->snapshot->last_included_seq : 0;
    bool from_snapshot = since_seq < base || since_seq > live->head;
    if (from_snapshot && live->snapshot) {
      sub->SendCatchUp(
          ToFrame(proto::Snapshot{doc, base, live->snapshot->state}));
    }
    std::uint64_t after = from_snapshot ? base : since_seq;
    // Entries are contiguous from base + 1; send those after `after` in
    // frames of at most 1,000 changes.
    std::size_t i = static_cast<std::size_t>(after - base);
    while (i < live->entries.size()) {
      proto::Ops ops{doc, live->entries[i].seq, {}};
      for (std::size_t n = 0; n < 1000 && i < live->entries.size(); ++n, ++i) {
        ops.changes.push_back(live->entries[i].change);
      }
      sub->SendCatchUp(ToFrame(ops));
    }
    sub->Send(ToFrame(proto::Synced{doc, live->head}));
    // Current presences; one waiting for the flush comes with it (the
    // newcomer is a subscriber by then), so it is not sent twice.
    for (const auto& [ptr, other] : live->subs) {
      if (!other.presence.empty() && !other.presence_dirty) {
        sub->Send(ToFrame(
            proto::PresenceOf{doc, other.sub->session_id(), other.presence}));
      }
    }
    const Subscriber* key = sub.get();
    live->subs[key] = Live::Sub{std::move(sub), role, {}};
    return Status::Ok();
  }
}

bool DocumentHub::HasSubscriber(const std::string& doc, const Subscriber* sub) {
  auto live = Find(doc);
  if (!live) return false;
  std::lock_guard lock(live->mu);
  return !live->unloaded && live->subs.count(sub) != 0;
}

void DocumentHub::Unsubscribe(const std::string& doc, const Subscriber* sub) {
  auto live = Find(doc);
  if (!live) return;
  std::lock_guard lock(live->mu);
  auto it = live->subs.find(sub);
  if (it == live->subs.end()) return;
  std::uint64_t session = it->second.sub->session_id();
  // Others learn of a presence only at a flush: none went out, none to
  // take back.
  bool seen = it->second.presence_shown;
  live->subs.erase(it);
  if (!seen) return;
  Frame gone = ToFrame(proto::PresenceGone{doc, session});
  for (auto& [ptr, other] : live->subs) other.sub->Send(gone);
}

std::optional<proto::Error> DocumentHub::Submit(
    const std::string& doc, const Subscriber* sub,
    std::vector<proto::Change> changes) {
  auto live = Find(doc);
  if (!live) return Unloaded(doc);
  std::optional<proto::Error> error;
  bool start = false;
  {
    std::lock_guard lock(live->mu);
    if (live->unloaded) return Unloaded(doc);
    auto it = live->subs.find(sub);
    // The connection checked that it subscribed: this subscription went
    // with a Drop (unsubscribed 503) and another session loaded the
    // document again since.
    if (it == live->subs.end()) return Unloaded(doc);
    if (it->second.role == proto::Role::kViewer) {
      return MakeError(proto::ErrorCode::kForbidden, doc,
                       "viewers cannot change this document");
    }
    if (changes.size() > config_.max_changes_per_submit) {
      return MakeError(proto::ErrorCode::kTooLarge, doc,
                       "more than " +
                           std::to_string(config_.max_changes_per_submit) +
                           " changes in one submit");
    }
    Live::Batch batch{it->second.sub, it->second.sub->user_id(), {}};
    // Refuses the change: the model may hold part of it, so it is rebuilt
    // from what is durable and what others submitted. False when even
    // that fails (the document was dropped; `error` says so).
    auto refuse = [&](const Status& why) {
      error = MakeError(proto::ErrorCode::kInvalidUpdate, doc, why.message());
      if (!batch.changes.empty()) {
        live->queued.push_back(batch);
        batch.changes.clear();
      }
      if (Status r = live->Rebuild(models_, true); !r.ok()) {
        // Durable state no longer loads: nothing can be trusted here.
        Drop(*live, proto::ErrorCode::kUnavailable, r.message());
        error = MakeError(proto::ErrorCode::kUnavailable, doc, r.message());
        return false;
      }
      return true;
    };
    for (proto::Change& c : changes) {
      if (c.span == 0 || c.first_seq > UINT64_MAX - c.span) {
        error = MakeError(proto::ErrorCode::kInvalidUpdate, doc,
                          "change ids out of range");
        break;
      }
      if (!live->owners.MayWrite(c.client_id, batch.user_id)) {
        error = MakeError(proto::ErrorCode::kInvalidUpdate, doc,
                          "client id " + std::to_string(c.client_id) +
                              " belongs to another user");
        break;
      }
      std::uint64_t next = live->model->NextSeq(c.client_id);
      if (c.first_seq + c.span <= next) {
        // A retry: acknowledged again, not applied. Its update must hold
        // nothing new: one that starts inside an earlier change is logged
        // and broadcast under a new seq, so other bytes there (garbage, or
        // operations of other ids) would reach every replica and the log
        // but not this model.
        Status same = live->model->CheckRetry(c);
        if (!same.ok()) {
          if (!refuse(same)) return error;
          break;
        }
        batch.changes.push_back(std::move(c));
        continue;
      }
      if (c.first_seq != next) {
        error = c.first_seq > next
                    ? MakeError(proto::ErrorCode::kOutOfOrder, doc,
                                "expected seq " + std::to_string(next) +
                                    " from this client",
                                next)
                    : MakeError(proto::ErrorCode::kInvalidUpdate, doc,
                                "change overlaps ids already applied");
        break;
      }
      Status applied = live->model->Apply(c);
      if (!applied.ok()) {
        if (!refuse(applied)) return error;
        break;
      }
      // A client id's first change makes it the submitter's (the others
      // find it owned, or it was known from the log already).
      if (next == 0) live->owners.Add(c.client_id, batch.user_id);
      batch.changes.push_back(std::move(c));
    }
    if (!batch.changes.empty()) live->queued.push_back(std::move(batch));
    if (!live->appending && !live->queued.empty()) {
      live->appending = true;
      live->TakeQueued(config_.max_append_changes);
      start = true;
      // Counted here, under the lock: a Forget from now on waits for it.
      CountAppend(live->id, 1);
    }
  }
  if (start) StartAppend(live);
  return error;
}

// The caller counted this append (CountAppend) when it set it going; the
// count ends once its callback has returned.
void DocumentHub::StartAppend(const std::shared_ptr<Live>& live) {
  auto started = std::chrono::steady_clock::now();
  std::vector<ChangeToLog> all;
  {
    std::lock_guard lock(live->mu);
    for (const auto& b : live->in_flight) {
      for (const auto& c : b.changes) all.push_back(ChangeToLog{c, b.user_id});
    }
  }
  if (all.empty()) {  // every change of the batch was dropped on a rebuild
    OnAppended(live, std::vector<std::uint64_t>{});
    CountAppend(live->id, -1);
    return;
  }
  log_.Append(live->id, std::move(all),
              [this, live, started](Result<std::vector<std::uint64_t>> result) {
                if (append_seconds_) {
                  append_seconds_->Observe(
                      std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - started)
                          .count());
                }
                OnAppended(live, std::move(result));
                CountAppend(live->id, -1);  // the last use of `this`
              });
}

void DocumentHub::OnAppended(const std::shared_ptr<Live>& live,
                             Result<std::vector<std::uint64_t>> result) {
  // Still counted (CountAppend) until this returns, so WaitForAppends also
  // waits for the snapshot this may start.
  bool again = false;
  {
    std::lock_guard lock(live->mu);
    std::vector<Live::Batch> done = std::move(live->in_flight);
    live->in_flight.clear();
    std::size_t total = 0;
    for (const auto& b : done) total += b.changes.size();
    if (result.ok() && result->size() != total) {
      result = Status::Internal(
          "log returned " + std::to_string(result->size()) +
          " sequence numbers for " + std::to_string(total) + " changes");
    }
    if (!result.ok()) {
      // Not acknowledged: tell the submitters; their clients resend (ids
      // make that idempotent).
      for (auto& b : done) {
        if (auto s = b.from.lock()) {
          s->Send(
              ToFrame(MakeError(proto::ErrorCode::kUnavailable, live->id,
                                "not stored: " + result.status().message())));
        }
      }
      // Some or all of the batch may be durable all the same (a
      // connection lost during COMMIT): only the log knows. Carrying on
      // from memory would number later changes past a hole and snapshot
      // a model without changes the log holds. So the document is
      // dropped (every subscriber gets unsubscribed 503 and subscribes
      // again) and loaded again from the log; resends are then
      // acknowledged with the seqs the log gave them, if it did.
      Drop(*live, proto::ErrorCode::kUnavailable,
           "a write failed and its outcome is unknown; subscribe again and "
           "resend what is not acknowledged");
    } else {
      const auto& seqs = *result;
      std::size_t k = 0;
      proto::Ops ops{live->id, 0, {}};
      // A seq past head + 1: the log holds changes this document never
      // sequenced (a commit of unknown outcome that landed after the
      // document was loaded again, another writer). Memory lacks them.
      bool gap = false;
      for (auto& b : done) {
        proto::Ack ack{live->id, {}};
        for (auto& c : b.changes) {
          std::uint64_t seq = seqs[k++];
          ack.entries.push_back({c.client_id, c.first_seq, seq});
          if (seq > live->head + 1) gap = true;
          if (gap) continue;  // acknowledged (durable), not broadcast
          if (seq > live->head) {
            if (ops.changes.empty()) ops.first_seq = seq;
            live->head = seq;
            if (live->entries.empty()) {
              live->oldest_entry_at = std::chrono::steady_clock::now();
            }
            live->entries.push_back(LogEntry{seq, c});
            ops.changes.push_back(std::move(c));
          }
        }
        if (auto s = b.from.lock()) s->Send(ToFrame(ack));
        if (ack_latency_) {
          ack_latency_->Observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            b.queued_at)
                  .count());
        }
      }
      if (ops_total_) ops_total_->Inc(ops.changes.size());
      if (gap) {
        // Broadcasting past the hole, or snapshotting a model without what
        // fills it, would lose those changes for every replica: what is
        // held back goes out, then the document is loaded again from the
        // log (subscribers get unsubscribed 503 and resume from their
        // last seq, which the log now answers in full).
        live->HoldBack(std::move(ops));
        live->FlushOutbox(std::chrono::steady_clock::now());
        Drop(*live, proto::ErrorCode::kUnavailable,
             "the log holds changes this server did not sequence; "
             "subscribe again");
      } else if (!ops.changes.empty()) {
        // A document whose last broadcast is recent collects what follows
        // into its outbox, which FlushBroadcasts sends within the interval:
        // under a stream of edits each subscriber then gets one message
        // (one system call) per interval instead of one per durable batch.
        // The first changes after a quiet spell go out at once.
        auto now = std::chrono::steady_clock::now();
        bool paced = config_.broadcast_interval.count() > 0 &&
                     (!live->outbox.changes.empty() ||
                      (live->last_broadcast && now - *live->last_broadcast <
                                                   config_.broadcast_interval));
        live->HoldBack(std::move(ops));
        if (!paced) {
          live->FlushOutbox(now);
        } else if (!live->broadcast_queued) {
          live->broadcast_queued = true;
          std::lock_guard block(broadcast_mu_);
          broadcast_dirty_.push_back(live);
        }
      }
    }
    if (!live->queued.empty() && !live->unloaded) {
      live->TakeQueued(config_.max_append_changes);
      again = true;
      CountAppend(live->id, 1);  // as in Submit
    } else {
      live->appending = false;
    }
  }
  if (again) StartAppend(live);
  // Also while the next append runs (TrySnapshot: then only a long log).
  TrySnapshot(live, config_.snapshot_every);
}

bool DocumentHub::TrySnapshot(const std::shared_ptr<Live>& live,
                              std::size_t min_entries,
                              std::chrono::steady_clock::time_point now) {
  std::uint64_t seq = 0;
  std::string state;  // quiet: encoded under the lock
  // Busy: the live model also holds changes not durable yet.
  std::optional<std::string> base;
  std::vector<LogEntry> durable;
  ModelLoader load = nullptr;
  {
    std::lock_guard lock(live->mu);
    if (live->unloaded || !live->model || live->snapshotting ||
        live->entries.empty()) {
      return false;
    }
    bool stale = config_.snapshot_after.count() > 0 &&
                 now - live->oldest_entry_at >= config_.snapshot_after;
    bool quiet = !live->appending && live->queued.empty();
    if (quiet) {
      if (live->entries.size() < min_entries && !stale) return false;
      // Quiet: the model holds exactly the durable entries.
      live->snapshotting = true;
      seq = live->head;
      state = live->model->EncodeSnapshot();
    } else {
      // A document edited without pause may never be quiet when an append
      // ends: once its log is kBusySnapshotFactor times the snapshot
      // interval long (or stale), the durable part is snapshotted from a
      // model of its own, so that the log in memory and in the store stays
      // bounded. Not sooner: that model replays every entry again; at twice
      // the interval, when that ran on the store's completion thread, 100
      // documents taking 600 ops/s each made acks of all of them wait
      // (p99 0.7 s against 0.2 s).
      if (live->entries.size() < kBusySnapshotFactor * config_.snapshot_every &&
          !stale) {
        return false;
      }
      live->snapshotting = true;
      seq = live->head;
      if (live->snapshot) base = live->snapshot->state;
      durable = live->entries;
      load = live->model->Loader();
    }
  }
  DocumentLog::SnapshotBuilder build;
  if (durable.empty()) {
    build = [state = std::move(state)]() mutable -> Result<std::string> {
      return std::move(state);
    };
  } else {
    // Built where the log builds snapshots (StoreDocumentLog: its worker
    // thread, not the store's completion thread, whose stall would hold up
    // every document's acks), outside the lock (submits go on meanwhile)
    // and without the store (the kind is the live model's).
    build = [base = std::move(base), durable = std::move(durable),
             load]() -> Result<std::string> {
      std::optional<std::string_view> from;
      if (base) from = *base;
      auto model = load(from);
      if (!model.ok()) return model.status();
      WEFT_RETURN_IF_ERROR(ReplayDurable(**model, durable));
      return (*model)->EncodeSnapshot();
    };
  }
  auto started = std::chrono::steady_clock::now();
  Histogram* timing = snapshot_seconds_;
  log_.BuildAndSaveSnapshot(
      live->id, seq, std::move(build),
      [live, started, timing](Result<StoredSnapshot> saved) {
        if (timing) {
          timing->Observe(std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - started)
                              .count());
        }
        std::lock_guard lock(live->mu);
        live->snapshotting = false;
        // Not built or not saved: keep the entries; a later one retries.
        if (!saved.ok()) return;
        std::uint64_t upto = saved->last_included_seq;
        live->snapshot = std::move(*saved);
        auto& e = live->entries;
        std::size_t drop = 0;
        while (drop < e.size() && e[drop].seq <= upto) ++drop;
        e.erase(e.begin(), e.begin() + static_cast<long>(drop));
        // What is left was logged while the snapshot was being written.
        if (!e.empty())
          live->oldest_entry_at = std::chrono::steady_clock::now();
      });
  return true;
}

void DocumentHub::Drop(Live& live, proto::ErrorCode code,
                       const std::string& message) {
  Frame frame = ToFrame(
      proto::Unsubscribed{live.id, static_cast<std::uint64_t>(code), message});
  for (auto& [ptr, sub] : live.subs) sub.sub->Send(frame);
  live.subs.clear();
  live.unloaded = true;
  std::lock_guard hub_lock(mu_);
  auto it = docs_.find(live.id);
  if (it != docs_.end() && it->second.get() == &live) docs_.erase(it);
}

std::optional<proto::Error> DocumentHub::SetPresence(const std::string& doc,
                                                     const Subscriber* sub,
                                                     std::string state) {
  if (state.size() > config_.max_presence_bytes) {
    return MakeError(proto::ErrorCode::kTooLarge, doc,
                     "presence state over " +
                         std::to_string(config_.max_presence_bytes) + " bytes");
  }
  auto live = Find(doc);
  if (!live) return Unloaded(doc);
  std::lock_guard lock(live->mu);
  if (live->unloaded) return Unloaded(doc);
  auto it = live->subs.find(sub);
  if (it == live->subs.end()) return Unloaded(doc);  // as in Submit
  it->second.presence = std::move(state);
  it->second.presence_dirty = true;
  if (!live->presence_queued) {
    live->presence_queued = true;
    std::lock_guard plock(presence_mu_);
    presence_dirty_.push_back(live);
  }
  return std::nullopt;
}

std::size_t DocumentHub::FlushBroadcasts() {
  std::vector<std::weak_ptr<Live>> dirty;
  {
    std::lock_guard block(broadcast_mu_);
    dirty.swap(broadcast_dirty_);
  }
  std::size_t sent = 0;
  auto now = std::chrono::steady_clock::now();
  for (auto& weak : dirty) {
    auto live = weak.lock();
    if (!live) continue;
    std::lock_guard lock(live->mu);
    live->broadcast_queued = false;
    if (live->outbox.changes.empty()) continue;
    live->FlushOutbox(now);
    ++sent;
  }
  return sent;
}

std::size_t DocumentHub::FlushPresence() {
  std::vector<std::weak_ptr<Live>> dirty;
  {
    std::lock_guard plock(presence_mu_);
    dirty.swap(presence_dirty_);
  }
  std::size_t sent = 0;
  for (auto& weak : dirty) {
    auto live = weak.lock();
    if (!live) continue;
    std::lock_guard lock(live->mu);
    live->presence_queued = false;
    for (auto& [ptr, sub] : live->subs) {
      if (!sub.presence_dirty) continue;
      sub.presence_dirty = false;
      Frame frame;
      if (sub.presence.empty()) {
        // Taken back (an empty state): whoever was shown it forgets it.
        if (!sub.presence_shown) continue;
        sub.presence_shown = false;
        frame = ToFrame(proto::PresenceGone{live->id, sub.sub->session_id()});
      } else {
        sub.presence_shown = true;
        frame = ToFrame(
            proto::PresenceOf{live->id, sub.sub->session_id(), sub.presence});
      }
      ++sent;
      for (auto& [other_ptr, other] : live->subs) {
        if (other_ptr != ptr) other.sub->Send(frame);
      }
    }
  }
  return sent;
}

std::size_t DocumentHub::ExpirePresence(
    std::chrono::steady_clock::time_point now) {
  std::vector<std::shared_ptr<Live>> all = AllLive();
  std::size_t cleared = 0;
  for (auto& live : all) {
    if (!live->loaded) continue;  // see SnapshotStale
    std::lock_guard lock(live->mu);
    for (auto& [ptr, sub] : live->subs) {
      if (sub.presence.empty()) continue;
      auto heard = sub.sub->last_heard();
      if (heard == std::chrono::steady_clock::time_point::max() ||
          now - heard < config_.presence_timeout) {
        continue;
      }
      bool shown = sub.presence_shown;
      sub.presence.clear();
      sub.presence_dirty = false;
      sub.presence_shown = false;
      ++cleared;
      if (!shown) continue;  // nobody saw it (set, never flushed)
      Frame gone =
          ToFrame(proto::PresenceGone{live->id, sub.sub->session_id()});
      for (auto& [other_ptr, other] : live->subs) {
        if (other_ptr != ptr) other.sub->Send(gone);
      }
    }
  }
  return cleared;
}

void DocumentHub::SetRole(const std::string& doc, const Subscriber* sub,
                          std::optional<proto::Role> role, std::uint64_t code,
                          const std::string& message) {
  auto live = Find(doc);
  if (!live) return;
  std::shared_ptr<Subscriber> removed;
  {
    std::lock_guard lock(live->mu);
    auto it = live->subs.find(sub);
    if (it == live->subs.end()) return;
    if (role) {
      it->second.role = *role;
      return;
    }
    removed = it->second.sub;
    bool seen = it->second.presence_shown;  // as in Unsubscribe
    live->subs.erase(it);
    removed->Send(ToFrame(proto::Unsubscribed{doc, code, message}));
    if (!seen) return;
    Frame gone = ToFrame(proto::PresenceGone{doc, removed->session_id()});
    for (auto& [ptr, other] : live->subs) other.sub->Send(gone);
  }
}

std::vector<std::shared_ptr<DocumentHub::Live>> DocumentHub::AllLive() const {
  std::vector<std::shared_ptr<Live>> all;
  std::lock_guard lock(mu_);  // never held while taking a Live's lock
  all.reserve(docs_.size());
  for (const auto& [id, live] : docs_) all.push_back(live);
  return all;
}

std::size_t DocumentHub::SnapshotStale(
    std::chrono::steady_clock::time_point now) {
  std::vector<std::shared_ptr<Live>> all = AllLive();
  std::size_t started = 0;
  for (auto& live : all) {
    // The sweeps run on the server's control strand, with the broadcasts
    // and the accept loop: they skip a document being loaded, whose lock
    // is held across the store's read (Live::loaded; the next sweep
    // looks). A loaded document's lock is never held across the store.
    if (!live->loaded) continue;
    if (TrySnapshot(live, std::numeric_limits<std::size_t>::max(), now))
      ++started;
  }
  return started;
}

std::size_t DocumentHub::UnloadIdle() {
  std::vector<std::shared_ptr<Live>> all = AllLive();
  std::size_t unloaded = 0;
  for (auto& live : all) {
    bool fold = false;
    {
      if (!live->loaded) continue;  // see SnapshotStale
      std::lock_guard lock(live->mu);
      if (live->unloaded || !live->subs.empty() || live->appending ||
          live->snapshotting || !live->queued.empty()) {
        continue;
      }
      if (live->entries.size() < config_.unload_snapshot_min) {
        live->unloaded = true;
        std::lock_guard hub_lock(mu_);
        auto it = docs_.find(live->id);
        if (it != docs_.end() && it->second == live) docs_.erase(it);
        ++unloaded;
      } else {
        fold = true;
      }
    }
    // Fold a long log into a snapshot first, so the next load is fast; a
    // later call unloads the document.
    if (fold) TrySnapshot(live, config_.unload_snapshot_min);
  }
  return unloaded;
}

void DocumentHub::ExportMetrics(MetricsRegistry& metrics) {
  ops_total_ = &metrics.GetCounter("weft_sync_ops_total",
                                   "Changes made durable and broadcast.");
  ack_latency_ = &metrics.GetHistogram(
      "weft_sync_ack_latency_seconds",
      "Time from a submit to its acknowledgement (durable).");
  append_seconds_ = &metrics.GetHistogram(
      "weft_sync_append_seconds", "Duration of one durable log append.");
  snapshot_seconds_ = &metrics.GetHistogram("weft_sync_snapshot_seconds",
                                            "Duration of saving a snapshot.");
  metrics.AddCallbackGauge("weft_sync_documents_loaded",
                           "Documents held in memory.",
                           [this] { return double(loaded_documents()); });
  metrics.AddCallbackGauge("weft_sync_documents_subscribed",
                           "Documents with at least one subscriber.",
                           [this] { return double(subscribed_documents()); });
}

std::size_t DocumentHub::subscribed_documents() const {
  std::vector<std::shared_ptr<Live>> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, live] : docs_) all.push_back(live);
  }
  std::size_t n = 0;
  for (const auto& live : all) {
    // A metrics scrape does not wait for a document being loaded (it has
    // no subscriber yet).
    if (!live->loaded) continue;
    std::lock_guard lock(live->mu);
    if (!live->subs.empty()) ++n;
  }
  return n;
}

std::size_t DocumentHub::loaded_documents() const {
  std::lock_guard lock(mu_);
  return docs_.size();
}

Result<std::string> DocumentHub::ContentJson(const std::string& doc) {
  for (;;) {
    auto live = GetOrLoad(doc);
    if (!live.ok()) return live.status();
    std::lock_guard lock((*live)->mu);
    if ((*live)->unloaded || !(*live)->model) continue;
    return (*live)->model->ContentJson();
  }
}

}  // namespace weft::server
