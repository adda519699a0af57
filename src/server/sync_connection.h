#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "proto/message.h"
#include "server/document_hub.h"
#include "server/sync_access.h"

namespace weft::server {

// The transport under a sync connection (a WebSocket session). Both
// methods are thread-safe and never block; after Close, sends are dropped.
class SyncTransport {
 public:
  virtual ~SyncTransport() = default;
  virtual void Send(std::shared_ptr<const std::string> frame) = 0;
  // A catch-up frame: queued without counting against the outbound limit.
  virtual void SendCatchUp(std::shared_ptr<const std::string> frame) {
    Send(std::move(frame));
  }
  // Closes with a WebSocket close code (docs/protocol.md §4).
  virtual void Close(std::uint16_t code, std::string reason) = 0;
  // The once-a-second sweep: keep-alive pings and the idle timeout.
  virtual void CheckIdle(std::chrono::steady_clock::time_point /*now*/) {}
};

struct SyncLimits {
  // Submits per second a connection may make (token bucket, burst 2x).
  double submits_per_second = 200;
  // Presence updates per second a connection may send (burst 2x); more are
  // refused with rate_limited.
  double presence_per_second = 20;
  // Subscribes and unsubscribes per second (burst 2x): each subscribe asks
  // the store for the role and may load the document. As many as submits:
  // a client opening hundreds of documents at once stays within it.
  double subscribes_per_second = 200;
  // Changes refused as invalid_update per second (burst 2x); one more
  // closes the connection (4400). Each refusal rebuilds the document's
  // model from its durable state under the document's lock, so an editor
  // sending bad changes at the submit rate would keep every other editor
  // of a large document waiting; an honest client rolls back after one.
  double refused_changes_per_second = 2;
  // `auth` messages per second (burst 2x), then rate_limited: each reads
  // the store on the connection's I/O thread.
  double auths_per_second = 1;
};

using Clock = std::function<std::chrono::system_clock::time_point()>;

// The protocol state machine of one sync connection (docs/protocol.md),
// free of any transport: it takes decoded-or-not binary messages and
// answers through a SyncTransport and the DocumentHub.
//
// States: awaiting `hello` (only `hello` is accepted; anything else closes
// 4401), then ready. Thread-safe: messages arrive in order from the
// transport; RecheckAccess and CheckExpiry may come from other threads.
class SyncConnection : public Subscriber,
                       public std::enable_shared_from_this<SyncConnection> {
 public:
  SyncConnection(std::uint64_t session_id,
                 std::shared_ptr<SyncTransport> transport, DocumentHub& hub,
                 SyncAuthenticator& auth, DocumentAccess& access, Clock clock,
                 SyncLimits limits = {});
  ~SyncConnection() override;

  // One binary WebSocket message from the client.
  void OnMessage(std::string_view bytes);
  // A text message: a protocol error (closes 4400).
  void OnTextMessage();
  // The transport closed: ends every subscription.
  void OnClosed();
  // The server began to close the connection (not for shutdown): ends
  // every subscription now, so that peers lose its presence at once, not
  // when the socket finally closes (up to the idle timeout for a slow
  // consumer that never reads its close frame).
  void LeaveDocuments();
  // The hello deadline passed: closes 4401 unless `hello` was accepted.
  void OnHelloDeadline();
  // Closes the connection (e.g. 1001 when the server shuts down).
  void Close(std::uint16_t code, const std::string& reason);
  // From now on nothing the client sends is acted on, but what the server
  // sends still goes out (shutdown: the acks of appends on their way).
  void StopActing() { closing_.store(true); }
  // A message is being handled (shutdown waits for none before closing:
  // one past its closing_ check may still submit).
  bool handling() const { return handling_.load() > 0; }
  // Closes with 4402 when the access token has expired.
  void CheckExpiry();
  // The periodic checks (ConnectionRegistry::CheckDeadlines): closes 4401
  // when `hello` has not come within `hello_timeout` of opening, and 4402
  // when the access token has expired; then the transport's own checks
  // (SyncTransport::CheckIdle).
  void CheckDeadlines(std::chrono::steady_clock::time_point now,
                      std::chrono::steady_clock::duration hello_timeout);
  // Live permissions: asks DocumentAccess again for every subscription and
  // downgrades or removes it (`unsubscribed(access_removed)`) as needed.
  // When the store could not answer (the credential or a role), the
  // connection keeps what it had and recheck_due() says so until a later
  // call got every answer (ConnectionRegistry::RetryRechecks). With
  // wait == false it does nothing while the connection is busy with a
  // message (which may be waiting on the store), and stays due.
  void RecheckAccess(bool wait = true);
  // Re-checks now if the connection is not busy with a message, else
  // leaves it due for the next RetryRechecks (at most a second later).
  void RecheckAccessSoon() {
    recheck_due_ = true;
    RecheckAccess(/*wait=*/false);
  }
  bool recheck_due() const { return recheck_due_.load(); }

  // The authenticated user, or empty before `hello`.
  std::string user_id() const override;

  // The client sent something (a message, or a WebSocket pong or ping).
  void Heard();

  // Subscriber:
  void Send(std::shared_ptr<const std::string> frame) override;
  void SendCatchUp(std::shared_ptr<const std::string> frame) override;
  std::uint64_t session_id() const override { return session_id_; }
  std::chrono::steady_clock::time_point last_heard() const override;

 private:
  void SendMessage(const proto::Message& m);
  void SendError(proto::ErrorCode code, const std::string& doc,
                 const std::string& message);
  void Fail(proto::ErrorCode code, const std::string& message);
  // Under mu_: the close a deadline calls for now, if any: no hello yet
  // (when `hello_overdue`), or an expired access token.
  using Due = std::pair<proto::ErrorCode, const char*>;
  std::optional<Due> DueLocked(bool hello_overdue) const;
  // The invalid_update budget of `doc` (refused_changes_per_second).
  bool TakeRefused(const std::string& doc);
  bool Take(double* tokens, double rate,
            std::chrono::steady_clock::time_point* last);

  const std::uint64_t session_id_;
  const std::chrono::steady_clock::time_point opened_at_;
  // steady_clock ticks of the last Heard().
  std::atomic<std::chrono::steady_clock::rep> last_heard_;
  // Close() was called: later messages are ignored.
  std::atomic<bool> closing_{false};
  std::atomic<int> handling_{0};
  // Changes refused as invalid_update, per document (an honest client
  // gets at most one per document before it rolls back; several stale
  // documents reopened at once must not close it).
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point refill;
  };
  std::map<std::string, Bucket> refused_;  // guarded by mu_
  // And for the whole connection, 4 times the rate (burst 8x): several
  // documents each with one stale change pass, a client subscribing to
  // many documents to multiply its rebuilds does not.
  Bucket refused_all_{};  // guarded by mu_
  // The last RecheckAccess missed an answer; it is to be asked again.
  std::atomic<bool> recheck_due_{false};
  std::shared_ptr<SyncTransport> transport_;
  DocumentHub& hub_;
  SyncAuthenticator& auth_;
  DocumentAccess& access_;
  Clock clock_;
  SyncLimits limits_;

  // Guards only user_id_, so that the hub may ask for it while mu_ is held
  // by a call into the hub.
  mutable std::mutex id_mu_;
  std::string user_id_;  // guarded by id_mu_; set once, by hello

  mutable std::mutex mu_;
  bool ready_ = false;                                      // guarded by mu_
  bool closed_ = false;                                     // guarded by mu_
  Identity identity_;                                       // guarded by mu_
  std::map<std::string, proto::Role> subscriptions_;        // guarded by mu_
  double submit_tokens_;                                    // guarded by mu_
  double presence_tokens_;                                  // guarded by mu_
  double subscribe_tokens_;                                 // guarded by mu_
  double auth_tokens_;                                      // guarded by mu_
  std::chrono::steady_clock::time_point submit_refill_;     // guarded by mu_
  std::chrono::steady_clock::time_point presence_refill_;   // guarded by mu_
  std::chrono::steady_clock::time_point subscribe_refill_;  // guarded by mu_
  std::chrono::steady_clock::time_point auth_refill_;       // guarded by mu_
};

}  // namespace weft::server
