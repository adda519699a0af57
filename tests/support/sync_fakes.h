#pragma once

// Small real implementations of the sync layer's interfaces for tests:
// a token table for authentication, a role table for access, and a list
// model (the content is the updates in the order applied).

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/byte_io.h"
#include "server/document_model.h"
#include "server/sync_access.h"

namespace weft::testing {

// Holds the threads that Pass() it until Open(); Entered() waits until one
// is held. For "this must not wait for that" tests.
class Gate {
 public:
  void Pass() {
    std::unique_lock lock(mu_);
    ++held_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  void Entered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return held_ > 0; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int held_ = 0;
  bool open_ = false;
};

class TokenTable : public server::SyncAuthenticator {
 public:
  void Set(const std::string& token, server::Identity identity) {
    std::lock_guard lock(mu_);
    tokens_[token] = std::move(identity);
  }
  Result<server::Identity> Authenticate(std::string_view token) override {
    Result<server::Identity> out = Status::Unauthenticated("bad token");
    std::function<void()> then;
    {
      std::lock_guard lock(mu_);
      auto it = tokens_.find(std::string(token));
      if (it != tokens_.end()) out = it->second;
      if (!authenticate_failure_.ok()) out = authenticate_failure_;
      then = std::exchange(after_authenticate_, nullptr);
    }
    if (then) then();
    return out;
  }
  // Authenticate fails with `s` (a store that is down) until Ok().
  void FailAuthenticate(Status s) {
    std::lock_guard lock(mu_);
    authenticate_failure_ = std::move(s);
  }
  // Runs once, right after the next Authenticate has read its answer (what
  // happens while a hello is being handled).
  void AfterNextAuthenticate(std::function<void()> f) {
    std::lock_guard lock(mu_);
    after_authenticate_ = std::move(f);
  }
  // Every identity of `user` stops being valid (a password change).
  void Retire(const std::string& user) {
    std::lock_guard lock(mu_);
    retired_.insert(user);
  }
  // StillValid fails with `s` (a store that is down) until Fail(Ok()).
  void Fail(Status s) {
    std::lock_guard lock(mu_);
    failure_ = std::move(s);
  }
  Status StillValid(const server::Identity& identity) override {
    std::lock_guard lock(mu_);
    if (!failure_.ok()) return failure_;
    if (retired_.count(identity.user_id)) {
      return Status::Unauthenticated("the password was changed");
    }
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  std::map<std::string, server::Identity> tokens_;
  std::set<std::string> retired_;
  Status failure_;
  std::function<void()> after_authenticate_;
  Status authenticate_failure_;
};

class RoleTable : public server::DocumentAccess {
 public:
  void Set(const std::string& user, const std::string& doc, proto::Role role) {
    std::lock_guard lock(mu_);
    roles_[user + "/" + doc] = role;
  }
  void Remove(const std::string& user, const std::string& doc) {
    std::lock_guard lock(mu_);
    roles_.erase(user + "/" + doc);
  }
  // RoleFor fails with `s` (a store that is down) until Fail(Ok()).
  void Fail(Status s) {
    std::lock_guard lock(mu_);
    failure_ = std::move(s);
  }
  // Runs once, at the start of the next RoleFor (a subscribe being
  // handled, waiting for the store).
  void BeforeNextRoleFor(std::function<void()> f) {
    std::lock_guard lock(mu_);
    before_role_ = std::move(f);
  }
  Result<proto::Role> RoleFor(const std::string& user,
                              const std::string& doc) override {
    std::function<void()> before;
    {
      std::lock_guard lock(mu_);
      before = std::exchange(before_role_, nullptr);
    }
    if (before) before();
    std::lock_guard lock(mu_);
    if (!failure_.ok()) return failure_;
    auto it = roles_.find(user + "/" + doc);
    if (it == roles_.end()) return Status::NotFound("no such document");
    return it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, proto::Role> roles_;
  Status failure_;
  std::function<void()> before_role_;
};

// Updates must arrive in seq order per client; an update "bad" does not
// apply. Snapshots round-trip through ByteWriter.
class ListModel : public server::DocumentModel {
 public:
  std::uint64_t NextSeq(std::uint64_t client) const override {
    auto it = next_.find(client);
    return it == next_.end() ? 0 : it->second;
  }
  Status Apply(const proto::Change& c) override {
    if (c.update == "bad") return Status::Corruption("bad update");
    if (c.first_seq != NextSeq(c.client_id))
      return Status::InvalidArgument("gap");
    next_[c.client_id] = c.first_seq + c.span;
    items_.push_back(c.update);
    return Status::Ok();
  }
  Status CheckRetry(const proto::Change& c) override {
    if (c.update == "bad") return Status::Corruption("bad update");
    return Status::Ok();
  }
  std::string EncodeSnapshot() const override {
    ByteWriter w;
    w.VarUint(next_.size());
    for (auto [c, n] : next_) {
      w.VarUint(c);
      w.VarUint(n);
    }
    w.VarUint(items_.size());
    for (const auto& i : items_) w.Bytes(i);
    return w.Take();
  }
  std::string ContentJson() const override {
    std::string out = "[";
    for (std::size_t i = 0; i < items_.size(); ++i) {
      out += (i ? ",\"" : "\"") + items_[i] + "\"";
    }
    return out + "]";
  }
  server::ModelLoader Loader() const override { return &LoadOrEmpty; }
  // The next n loads fail, through the factory or a model's Loader().
  static inline int fail_loads = 0;
  static Result<std::unique_ptr<server::DocumentModel>> LoadOrEmpty(
      std::optional<std::string_view> snapshot) {
    if (fail_loads > 0) {
      --fail_loads;
      return Status::Corruption("model load failed (injected)");
    }
    if (!snapshot)
      return std::unique_ptr<server::DocumentModel>(new ListModel());
    return Load(*snapshot);
  }
  static Result<std::unique_ptr<server::DocumentModel>> Load(
      std::string_view bytes) {
    auto m = std::make_unique<ListModel>();
    ByteReader r(bytes);
    std::uint64_t n = r.VarUint();
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
      std::uint64_t c = r.VarUint();
      m->next_[c] = r.VarUint();
    }
    n = r.VarUint();
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
      m->items_.emplace_back(r.Bytes());
    }
    WEFT_RETURN_IF_ERROR(r.Finish());
    return std::unique_ptr<server::DocumentModel>(std::move(m));
  }

 private:
  std::map<std::uint64_t, std::uint64_t> next_;
  std::vector<std::string> items_;
};

class ListModelFactory : public server::DocumentModelFactory {
 public:
  // A test that stopped before its injected failures were used leaves
  // none to the next one.
  ListModelFactory() { ListModel::fail_loads = 0; }
  Result<std::unique_ptr<server::DocumentModel>> Load(
      const std::string&, std::optional<std::string_view> snapshot) override {
    ++loads;
    return ListModel::LoadOrEmpty(snapshot);
  }
  int loads = 0;
  int& fail_loads = ListModel::fail_loads;  // the next n loads fail
};

}  // namespace weft::testing
