#include "server/sync_connection.h"

#include <algorithm>
#include <vector>

#include "proto/codec.h"

namespace weft::server {
namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

std::uint16_t CloseCode(proto::ErrorCode code) {
  return static_cast<std::uint16_t>(4000 + static_cast<int>(code));
}

}  // namespace

SyncConnection::SyncConnection(std::uint64_t session_id,
                               std::shared_ptr<SyncTransport> transport,
                               DocumentHub& hub, SyncAuthenticator& auth,
                               DocumentAccess& access, Clock clock,
                               SyncLimits limits)
    : session_id_(session_id),
      opened_at_(std::chrono::steady_clock::now()),
      last_heard_(std::chrono::steady_clock::now().time_since_epoch().count()),
      transport_(std::move(transport)),
      hub_(hub),
      auth_(auth),
      access_(access),
      clock_(std::move(clock)),
      limits_(limits),
      submit_tokens_(2 * limits.submits_per_second),
      presence_tokens_(2 * limits.presence_per_second),
      subscribe_tokens_(2 * limits.subscribes_per_second),
      auth_tokens_(2 * limits.auths_per_second),
      submit_refill_(std::chrono::steady_clock::now()),
      presence_refill_(submit_refill_),
      subscribe_refill_(submit_refill_),
      auth_refill_(submit_refill_) {
  refused_all_ = Bucket{8 * limits.refused_changes_per_second, submit_refill_};
}

SyncConnection::~SyncConnection() = default;

void SyncConnection::Heard() {
  last_heard_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                    std::memory_order_relaxed);
}

std::chrono::steady_clock::time_point SyncConnection::last_heard() const {
  return std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(
          last_heard_.load(std::memory_order_relaxed)));
}

void SyncConnection::Send(std::shared_ptr<const std::string> frame) {
  transport_->Send(std::move(frame));
}

void SyncConnection::SendCatchUp(std::shared_ptr<const std::string> frame) {
  transport_->SendCatchUp(std::move(frame));
}

void SyncConnection::SendMessage(const proto::Message& m) {
  transport_->Send(std::make_shared<const std::string>(proto::Encode(m)));
}

void SyncConnection::SendError(proto::ErrorCode code, const std::string& doc,
                               const std::string& message) {
  SendMessage(proto::Error{static_cast<std::uint64_t>(code), doc, message, 0});
}

void SyncConnection::Fail(proto::ErrorCode code, const std::string& message) {
  SendError(code, "", message);
  Close(CloseCode(code), message);
}

bool SyncConnection::TakeRefused(const std::string& doc) {
  if (!Take(&refused_all_.tokens, 4 * limits_.refused_changes_per_second,
            &refused_all_.refill)) {
    return false;
  }
  // The buckets of documents long quiet are full anyway: trimmed at times
  // so that the map stays small.
  if (refused_.size() >= 256) refused_.clear();
  auto [it, fresh] =
      refused_.try_emplace(doc, Bucket{2 * limits_.refused_changes_per_second,
                                       std::chrono::steady_clock::now()});
  return Take(&it->second.tokens, limits_.refused_changes_per_second,
              &it->second.refill);
}

bool SyncConnection::Take(double* tokens, double rate,
                          std::chrono::steady_clock::time_point* last) {
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - *last).count();
  *last = now;
  *tokens = std::min(2 * rate, *tokens + elapsed * rate);
  if (*tokens < 1) return false;
  *tokens -= 1;
  return true;
}

std::string SyncConnection::user_id() const {
  std::lock_guard lock(id_mu_);
  return user_id_;
}

void SyncConnection::OnTextMessage() {
  if (closing_.load()) return;
  Fail(proto::ErrorCode::kProtocolError,
       "text frames are not part of the protocol");
}

namespace {
constexpr const char* kNoHello = "no hello before the deadline";
constexpr const char* kExpired =
    "access token expired; refresh it and reconnect";
}  // namespace

void SyncConnection::OnMessage(std::string_view bytes) {
  Heard();
  handling_.fetch_add(1);
  struct Done {
    std::atomic<int>& n;
    ~Done() { n.fetch_sub(1); }
  } done{handling_};
  if (closing_.load()) return;
  auto decoded = proto::Decode(bytes);
  if (!decoded.ok()) {
    Fail(proto::ErrorCode::kProtocolError, decoded.status().message());
    return;
  }
  std::unique_lock lock(mu_);
  // Closing may have begun while this waited for the lock (an access check
  // that ended the session): nothing more is acted on.
  if (closed_ || closing_.load()) return;
  if (!ready_) {
    auto* hello = std::get_if<proto::Hello>(&*decoded);
    if (hello == nullptr) {
      lock.unlock();
      Fail(proto::ErrorCode::kUnauthenticated,
           "the first message must be hello");
      return;
    }
    if (hello->protocol_version != proto::kProtocolVersion) {
      lock.unlock();
      Fail(proto::ErrorCode::kProtocolError,
           "unsupported protocol version " +
               std::to_string(hello->protocol_version));
      return;
    }
    auto identity = auth_.Authenticate(hello->access_token);
    if (!identity.ok()) {
      lock.unlock();
      // A store that could not say is not a bad token: 4503, and the
      // client keeps its credentials and reconnects later.
      Fail(identity.status().code() == StatusCode::kUnauthenticated
               ? proto::ErrorCode::kUnauthenticated
               : proto::ErrorCode::kUnavailable,
           identity.status().message());
      return;
    }
    identity_ = *identity;
    {
      std::lock_guard id_lock(id_mu_);
      user_id_ = identity_.user_id;
    }
    // ConnectionRegistry::AccessChanged finds a user's connections by
    // user id, which this one has only from the line above: a password
    // change whose feed event came after Authenticate read the store
    // passed it by. Read once more; every later change finds it.
    Status valid = auth_.StillValid(identity_);
    if (valid.code() == StatusCode::kUnauthenticated) {
      lock.unlock();
      Fail(proto::ErrorCode::kUnauthenticated, valid.message());
      return;
    }
    if (!valid.ok()) recheck_due_ = true;  // the store could not say
    ready_ = true;
    auto left = std::chrono::duration_cast<std::chrono::seconds>(
        identity_.expires_at - clock_());
    SendMessage(proto::Welcome{
        proto::kProtocolVersion, identity_.user_id, session_id_,
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, left.count()))});
    return;
  }

  // The deadline sweep skips a connection busy with a message, so one that
  // keeps it busy would outlive its token: checked here too. (An `auth`
  // with a fresh token still comes through.)
  if (!std::holds_alternative<proto::Auth>(*decoded)) {
    if (auto due = DueLocked(false)) {
      lock.unlock();
      Fail(due->first, due->second);
      return;
    }
  }
  std::visit(
      Overloaded{
          [&](const proto::Hello&) {
            lock.unlock();
            Fail(proto::ErrorCode::kProtocolError, "hello sent twice");
          },
          [&](const proto::Auth& m) {
            // Each one reads the store on this thread; a client refreshes
            // its token every few minutes.
            if (!Take(&auth_tokens_, limits_.auths_per_second, &auth_refill_)) {
              SendError(proto::ErrorCode::kRateLimited, "",
                        "too many auth messages; slow down");
              return;
            }
            auto identity = auth_.Authenticate(m.access_token);
            if (!identity.ok() &&
                identity.status().code() != StatusCode::kUnauthenticated) {
              // The store could not say: the current token stands.
              SendError(proto::ErrorCode::kUnavailable, "",
                        identity.status().message());
              return;
            }
            if (!identity.ok() || identity->user_id != identity_.user_id) {
              lock.unlock();
              Fail(proto::ErrorCode::kUnauthenticated,
                   identity.ok() ? "token is for another user"
                                 : identity.status().message());
              return;
            }
            identity_.expires_at = identity->expires_at;
            identity_.token_version = identity->token_version;
            auto left = std::chrono::duration_cast<std::chrono::seconds>(
                identity_.expires_at - clock_());
            SendMessage(proto::Welcome{
                proto::kProtocolVersion, identity_.user_id, session_id_,
                static_cast<std::uint64_t>(
                    std::max<std::int64_t>(0, left.count()))});
          },
          [&](const proto::Subscribe& m) {
            if (!Take(&subscribe_tokens_, limits_.subscribes_per_second,
                      &subscribe_refill_)) {
              SendError(proto::ErrorCode::kRateLimited, m.doc,
                        "too many subscribes; slow down");
              return;
            }
            if (subscriptions_.count(m.doc)) {
              if (hub_.HasSubscriber(m.doc, this)) {
                SendError(proto::ErrorCode::kProtocolError, m.doc,
                          "already subscribed");
                return;
              }
              // The hub dropped the document (it sent unsubscribed 503):
              // the client subscribes again, as that code allows.
              subscriptions_.erase(m.doc);
            }
            auto role = access_.RoleFor(identity_.user_id, m.doc);
            if (!role.ok()) {
              SendError(role.status().code() == StatusCode::kNotFound
                            ? proto::ErrorCode::kNotFound
                            : proto::ErrorCode::kUnavailable,
                        m.doc, role.status().message());
              return;
            }
            Status s =
                hub_.Subscribe(m.doc, m.since_seq, *role, shared_from_this());
            if (!s.ok()) {
              SendError(proto::ErrorCode::kUnavailable, m.doc, s.message());
              return;
            }
            subscriptions_[m.doc] = *role;
          },
          [&](const proto::Unsubscribe& m) {
            // Never refused: clients send it and forget the document, and
            // a subscription kept would go on streaming to them. It spends
            // a subscribe token when there is one, so a loop of both is
            // held by the subscribes' limit.
            (void)Take(&subscribe_tokens_, limits_.subscribes_per_second,
                       &subscribe_refill_);
            if (subscriptions_.erase(m.doc)) hub_.Unsubscribe(m.doc, this);
          },
          [&](proto::Submit& m) {
            if (!Take(&submit_tokens_, limits_.submits_per_second,
                      &submit_refill_)) {
              SendError(proto::ErrorCode::kRateLimited, m.doc,
                        "too many submits; slow down");
              return;
            }
            auto sub = subscriptions_.find(m.doc);
            if (sub == subscriptions_.end()) {
              SendError(proto::ErrorCode::kNotFound, m.doc, "not subscribed");
              return;
            }
            // Moved: a hostile submit of many tiny changes decodes to ~14
            // times its size; a copy doubled that.
            auto error = hub_.Submit(m.doc, this, std::move(m.changes));
            if (!error) return;
            SendMessage(*error);
            if (error->code == static_cast<std::uint64_t>(
                                   proto::ErrorCode::kInvalidUpdate) &&
                !TakeRefused(m.doc)) {
              lock.unlock();
              Fail(proto::ErrorCode::kProtocolError,
                   "too many refused changes");
            }
          },
          [&](const proto::Presence& m) {
            if (!Take(&presence_tokens_, limits_.presence_per_second,
                      &presence_refill_)) {
              SendError(proto::ErrorCode::kRateLimited, m.doc,
                        "too many presence updates; slow down");
              return;
            }
            if (!subscriptions_.count(m.doc)) {
              SendError(proto::ErrorCode::kNotFound, m.doc, "not subscribed");
              return;
            }
            auto error = hub_.SetPresence(m.doc, this, m.state);
            if (error) SendMessage(*error);
          },
          [&](const proto::Ping& m) { SendMessage(proto::Pong{m.nonce}); },
          [&](const auto&) {
            lock.unlock();
            Fail(proto::ErrorCode::kProtocolError,
                 "server-to-client message sent by the client");
          },
      },
      *decoded);
}

void SyncConnection::OnClosed() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  LeaveDocuments();
}

void SyncConnection::LeaveDocuments() {
  std::map<std::string, proto::Role> subs;
  {
    std::lock_guard lock(mu_);
    subs.swap(subscriptions_);
  }
  for (const auto& [doc, role] : subs) hub_.Unsubscribe(doc, this);
}

std::optional<SyncConnection::Due> SyncConnection::DueLocked(
    bool hello_overdue) const {
  if (closed_) return std::nullopt;
  if (!ready_) {
    if (!hello_overdue) return std::nullopt;
    return Due{proto::ErrorCode::kUnauthenticated, kNoHello};
  }
  if (clock_() < identity_.expires_at) return std::nullopt;
  return Due{proto::ErrorCode::kTokenExpired, kExpired};
}

void SyncConnection::OnHelloDeadline() {
  std::optional<Due> due;
  {
    std::lock_guard lock(mu_);
    if (!ready_) due = DueLocked(true);
  }
  if (due) Fail(due->first, due->second);
}

void SyncConnection::Close(std::uint16_t code, const std::string& reason) {
  // From now on nothing the client sends is acted on: the transport closes
  // asynchronously, and messages already read may still arrive.
  closing_.store(true);
  transport_->Close(code, reason);
}

void SyncConnection::CheckExpiry() {
  std::optional<Due> due;
  {
    std::lock_guard lock(mu_);
    due = DueLocked(false);
    if (due) closing_.store(true);
  }
  if (due) Fail(due->first, due->second);
}

void SyncConnection::CheckDeadlines(
    std::chrono::steady_clock::time_point now,
    std::chrono::steady_clock::duration hello_timeout) {
  // The control strand sweeps every connection: it does not wait for one
  // that is handling a message, which may be waiting on the store (a
  // subscribe loading a document); that one is checked at the next sweep.
  std::optional<Due> due;
  {
    std::unique_lock lock(mu_, std::try_to_lock);
    if (lock.owns_lock()) due = DueLocked(now - opened_at_ > hello_timeout);
    if (due) closing_.store(true);
  }
  if (due) Fail(due->first, due->second);
  transport_->CheckIdle(now);
}

void SyncConnection::RecheckAccess(bool wait) {
  std::unique_lock lock(mu_, std::defer_lock);
  if (wait) {
    lock.lock();
  } else if (!lock.try_lock()) {
    return;  // busy with a message; still due
  }
  recheck_due_ = false;
  if (!ready_ || closed_) return;
  // The credential first: a password change or reset (or the account
  // gone) ends the session, as it ends every refresh family.
  Status valid = auth_.StillValid(identity_);
  if (valid.code() == StatusCode::kUnauthenticated) {
    closing_.store(true);  // under the lock: no message waiting acts
    lock.unlock();
    Fail(proto::ErrorCode::kUnauthenticated, valid.message());
    return;
  }
  // The store could not say (down): the change that asked for this check
  // is not seen again (the access feed has moved past it), so ask again.
  if (!valid.ok()) recheck_due_ = true;
  std::vector<std::string> removed;
  for (auto& [doc, role] : subscriptions_) {
    auto now = access_.RoleFor(identity_.user_id, doc);
    if (now.ok()) {
      if (*now != role) {
        role = *now;
        hub_.SetRole(doc, this, *now);
      }
    } else if (now.status().code() == StatusCode::kNotFound) {
      removed.push_back(doc);
      hub_.SetRole(doc, this, std::nullopt,
                   static_cast<std::uint64_t>(proto::ErrorCode::kAccessRemoved),
                   "your access to this document was removed");
    } else {
      // Other failures (store down): keep the current role for now and
      // ask again (RetryRechecks), not only on the next change.
      recheck_due_ = true;
    }
  }
  for (const auto& doc : removed) subscriptions_.erase(doc);
}

}  // namespace weft::server
