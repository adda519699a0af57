#include "store/memory_metadata.h"

#include <algorithm>

namespace weft::store {
namespace {

Status Taken(std::string_view what) {
  return Status::AlreadyExists(std::string(what) + " is taken");
}
Status Missing(std::string_view what) {
  return Status::NotFound(std::string(what) + " not found");
}
Status BadRef(std::string_view what) {
  return Status::InvalidArgument("unknown " + std::string(what));
}

template <typename Map>
auto* FindIn(Map& m, std::string_view key) {
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace

Status MemoryMetadata::CreateUser(const User& user) {
  std::lock_guard<std::mutex> lock(mu_);
  if (users_.contains(user.id)) return Taken("user id");
  for (const auto& [id, u] : users_) {
    if (u.email == user.email) return Taken("email");
  }
  users_.emplace(user.id, user);
  return Status::Ok();
}

Result<User> MemoryMetadata::GetUser(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto* u = FindIn(users_, id)) return *u;
  return Missing("user");
}

Result<User> MemoryMetadata::GetUserByEmail(std::string_view email) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, u] : users_) {
    if (u.email == email) return u;
  }
  return Missing("user");
}

Status MemoryMetadata::SetPasswordHash(std::string_view user_id,
                                       std::string_view expected,
                                       std::string_view password_hash,
                                       std::int64_t token_version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto* u = FindIn(users_, user_id);
  if (u == nullptr) return Missing("user");
  if (u->password_hash != expected) {
    return Status::FailedPrecondition("the password was changed meanwhile");
  }
  u->password_hash = password_hash;
  u->token_version = token_version;
  return Status::Ok();
}

Status MemoryMetadata::CreateRefreshFamily(const RefreshTokenFamily& family) {
  std::lock_guard<std::mutex> lock(mu_);
  if (families_.contains(family.id)) return Taken("refresh family id");
  for (const auto& [id, f] : families_) {
    if (f.token_hash == family.token_hash) return Taken("refresh token");
  }
  if (!users_.contains(family.user_id)) return BadRef("user");
  families_.emplace(family.id, family);
  return Status::Ok();
}

Result<RefreshTokenFamily> MemoryMetadata::GetRefreshFamily(
    std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto* f = FindIn(families_, id)) return *f;
  return Missing("refresh family");
}

Result<RefreshTokenFamily> MemoryMetadata::RotateRefreshToken(
    std::string_view family_id, std::string_view presented_hash,
    std::string_view new_hash, std::int64_t expires_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto* f = FindIn(families_, family_id);
  if (f == nullptr) return Missing("refresh family");
  if (f->revoked) return Status::FailedPrecondition("refresh family revoked");
  if (f->token_hash != presented_hash) {
    if (f->prev_token_hash.empty() || f->prev_token_hash != presented_hash) {
      return Status::PermissionDenied("not the family's current token");
    }
    f->revoked = true;
    return Status::Aborted("stale refresh token presented; family revoked");
  }
  for (const auto& [id, other] : families_) {
    if (other.token_hash == new_hash) return Taken("refresh token");
  }
  f->prev_token_hash = f->token_hash;
  f->token_hash = new_hash;
  f->generation += 1;
  f->expires_ms = expires_ms;
  return *f;
}

Status MemoryMetadata::RevokeRefreshFamily(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto* f = FindIn(families_, id);
  if (f == nullptr) return Missing("refresh family");
  f->revoked = true;
  return Status::Ok();
}

Status MemoryMetadata::RevokeUserRefreshFamilies(std::string_view user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, f] : families_) {
    if (f.user_id == user_id) f.revoked = true;
  }
  return Status::Ok();
}

Status MemoryMetadata::CreateWorkspace(const Workspace& workspace) {
  std::lock_guard<std::mutex> lock(mu_);
  if (workspaces_.contains(workspace.id)) return Taken("workspace id");
  for (const auto& [id, w] : workspaces_) {
    if (w.slug == workspace.slug) return Taken("workspace slug");
  }
  if (!users_.contains(workspace.owner_id)) return BadRef("owner");
  workspaces_.emplace(workspace.id, workspace);
  return Status::Ok();
}

Result<Workspace> MemoryMetadata::GetWorkspace(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto* w = FindIn(workspaces_, id)) return *w;
  return Missing("workspace");
}

Result<Workspace> MemoryMetadata::GetWorkspaceBySlug(std::string_view slug) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, w] : workspaces_) {
    if (w.slug == slug) return w;
  }
  return Missing("workspace");
}

Status MemoryMetadata::AddMember(const Membership& membership) {
  std::lock_guard<std::mutex> lock(mu_);
  Key2 key{membership.workspace_id, membership.user_id};
  if (members_.contains(key)) return Taken("membership");
  if (!workspaces_.contains(membership.workspace_id))
    return BadRef("workspace");
  if (!users_.contains(membership.user_id)) return BadRef("user");
  members_.emplace(key, membership);
  return Status::Ok();
}

Result<Membership> MemoryMetadata::GetMembership(std::string_view workspace_id,
                                                 std::string_view user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = members_.find({std::string(workspace_id), std::string(user_id)});
  if (it == members_.end()) return Missing("membership");
  return it->second;
}

Status MemoryMetadata::SetMemberRole(std::string_view workspace_id,
                                     std::string_view user_id, Role role) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = members_.find({std::string(workspace_id), std::string(user_id)});
  if (it == members_.end()) return Missing("membership");
  it->second.role = role;
  return Status::Ok();
}

Status MemoryMetadata::RemoveMember(std::string_view workspace_id,
                                    std::string_view user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (members_.erase({std::string(workspace_id), std::string(user_id)}) == 0) {
    return Missing("membership");
  }
  return Status::Ok();
}

Result<std::vector<Membership>> MemoryMetadata::ListMembers(
    std::string_view workspace_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Membership> out;
  for (const auto& [key, m] : members_) {
    if (key.first == workspace_id) out.push_back(m);
  }
  return out;
}

Status MemoryMetadata::CreateInvitation(const Invitation& invitation) {
  std::lock_guard<std::mutex> lock(mu_);
  if (invitations_.contains(invitation.id)) return Taken("invitation id");
  for (const auto& [id, i] : invitations_) {
    if (i.token_hash == invitation.token_hash) return Taken("invitation token");
    if (i.workspace_id == invitation.workspace_id &&
        i.email == invitation.email) {
      return Taken("invitation email");
    }
  }
  if (!workspaces_.contains(invitation.workspace_id))
    return BadRef("workspace");
  if (!users_.contains(invitation.inviter_id)) return BadRef("inviter");
  invitations_.emplace(invitation.id, invitation);
  return Status::Ok();
}

Result<Invitation> MemoryMetadata::GetInvitationByToken(
    std::string_view token_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, i] : invitations_) {
    if (i.token_hash == token_hash) return i;
  }
  return Missing("invitation");
}

Status MemoryMetadata::AcceptInvitation(std::string_view token_hash,
                                        std::string_view user_id,
                                        std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Invitation* inv = nullptr;
  for (auto& [id, i] : invitations_) {
    if (i.token_hash == token_hash) inv = &i;
  }
  if (inv == nullptr) return Missing("invitation");
  if (inv->accepted_ms) {
    return Status::FailedPrecondition("invitation already accepted");
  }
  if (inv->expires_ms <= now_ms) {
    return Status::FailedPrecondition("invitation expired");
  }
  Key2 key{inv->workspace_id, std::string(user_id)};
  if (members_.contains(key)) return Taken("membership");
  if (!users_.contains(user_id)) return BadRef("user");
  members_.emplace(key, Membership{inv->workspace_id, std::string(user_id),
                                   inv->role, now_ms});
  inv->accepted_ms = now_ms;
  return Status::Ok();
}

Status MemoryMetadata::CreateDocument(const DocumentInfo& document) {
  std::lock_guard<std::mutex> lock(mu_);
  if (documents_.contains(document.id)) return Taken("document id");
  if (!workspaces_.contains(document.workspace_id)) return BadRef("workspace");
  if (!users_.contains(document.created_by)) return BadRef("user");
  documents_.emplace(document.id, document);
  return Status::Ok();
}

Result<DocumentInfo> MemoryMetadata::GetDocument(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto* d = FindIn(documents_, id)) return *d;
  return Missing("document");
}

Result<std::vector<DocumentInfo>> MemoryMetadata::ListDocuments(
    std::string_view workspace_id, bool include_deleted) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DocumentInfo> out;
  for (const auto& [id, d] : documents_) {
    if (d.workspace_id == workspace_id && (include_deleted || !d.deleted_ms)) {
      out.push_back(d);
    }
  }
  return out;
}

Status MemoryMetadata::RenameDocument(std::string_view id,
                                      std::string_view title,
                                      std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto* d = FindIn(documents_, id);
  if (d == nullptr) return Missing("document");
  d->title = title;
  d->updated_ms = now_ms;
  return Status::Ok();
}

Status MemoryMetadata::SoftDeleteDocument(std::string_view id,
                                          std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto* d = FindIn(documents_, id);
  if (d == nullptr) return Missing("document");
  d->deleted_ms = now_ms;
  d->updated_ms = now_ms;
  return Status::Ok();
}

Result<std::vector<DocumentInfo>> MemoryMetadata::ListDeletedBefore(
    std::int64_t before_ms, std::size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DocumentInfo> out;
  for (const auto& [id, d] : documents_) {
    if (d.deleted_ms && *d.deleted_ms < before_ms) out.push_back(d);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return *a.deleted_ms < *b.deleted_ms;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Status MemoryMetadata::PurgeDocument(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto* d = FindIn(documents_, id);
  if (d == nullptr || !d->deleted_ms) return Missing("deleted document");
  documents_.erase(documents_.find(std::string(id)));
  return Status::Ok();
}

Status MemoryMetadata::RestoreDocument(std::string_view id,
                                       std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto* d = FindIn(documents_, id);
  if (d == nullptr) return Missing("document");
  d->deleted_ms.reset();
  d->updated_ms = now_ms;
  return Status::Ok();
}

Result<std::int64_t> MemoryMetadata::RecordActivity(const Activity& activity) {
  std::lock_guard<std::mutex> lock(mu_);
  std::int64_t id = activity_.empty() ? 1 : activity_.rbegin()->first + 1;
  Activity a = activity;
  a.id = id;
  activity_.emplace(id, std::move(a));
  return id;
}

Result<std::vector<Activity>> MemoryMetadata::ListActivity(
    std::string_view workspace_id, std::int64_t before_id, std::size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Activity> out;
  for (auto it = activity_.rbegin(); it != activity_.rend(); ++it) {
    if (out.size() >= limit) break;
    if (before_id != 0 && it->first >= before_id) continue;
    if (it->second.workspace_id == workspace_id) out.push_back(it->second);
  }
  return out;
}

Result<std::int64_t> MemoryMetadata::RecordAccessChange(
    std::string_view user_id, std::int64_t at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  std::int64_t id = ++last_access_change_;
  access_changes_.emplace(id, AccessChange{id, std::string(user_id), at_ms});
  return id;
}

Result<std::vector<AccessChange>> MemoryMetadata::ListAccessChangesAfter(
    std::int64_t after_id, std::size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AccessChange> out;
  for (auto it = access_changes_.upper_bound(after_id);
       it != access_changes_.end() && out.size() < limit; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Result<std::int64_t> MemoryMetadata::LastAccessChangeId() {
  std::lock_guard<std::mutex> lock(mu_);
  return last_access_change_;
}

Result<std::int64_t> MemoryMetadata::PruneAccessChanges(
    std::int64_t cutoff_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<std::int64_t>(std::erase_if(
      access_changes_,
      [&](const auto& kv) { return kv.second.at_ms < cutoff_ms; }));
}

Status MemoryMetadata::PutIdempotencyRecord(const IdempotencyRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!idempotency_.emplace(Key2{record.user_id, record.key}, record).second) {
    return Taken("idempotency key");
  }
  return Status::Ok();
}

Result<IdempotencyRecord> MemoryMetadata::GetIdempotencyRecord(
    std::string_view user_id, std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = idempotency_.find({std::string(user_id), std::string(key)});
  if (it == idempotency_.end()) return Missing("idempotency key");
  return it->second;
}

Status MemoryMetadata::FinishIdempotencyRecord(std::string_view user_id,
                                               std::string_view key,
                                               int status_code,
                                               std::string_view response_body) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = idempotency_.find({std::string(user_id), std::string(key)});
  if (it == idempotency_.end() || it->second.status_code != 0) {
    return Missing("pending idempotency key");
  }
  it->second.status_code = status_code;
  it->second.response_body = response_body;
  return Status::Ok();
}

Status MemoryMetadata::ReleaseIdempotencyReservation(std::string_view user_id,
                                                     std::string_view key,
                                                     std::int64_t created_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = idempotency_.find({std::string(user_id), std::string(key)});
  if (it == idempotency_.end() || it->second.status_code != 0 ||
      it->second.created_ms != created_ms) {
    return Missing("idempotency reservation");
  }
  idempotency_.erase(it);
  return Status::Ok();
}

Result<std::int64_t> MemoryMetadata::ExpireIdempotencyRecords(
    std::int64_t cutoff_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<std::int64_t>(std::erase_if(
      idempotency_,
      [&](const auto& kv) { return kv.second.created_ms < cutoff_ms; }));
}

Status MemoryMetadata::SetDisplayName(std::string_view user_id,
                                      std::string_view display_name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto* u = FindIn(users_, user_id);
  if (u == nullptr) return Missing("user");
  u->display_name = display_name;
  return Status::Ok();
}

Status MemoryMetadata::RenameWorkspace(std::string_view id,
                                       std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto* w = FindIn(workspaces_, id);
  if (w == nullptr) return Missing("workspace");
  w->name = name;
  return Status::Ok();
}

Status MemoryMetadata::DeleteWorkspace(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workspaces_.find(id);
  if (it == workspaces_.end()) return Missing("workspace");
  std::erase_if(members_,
                [&](const auto& kv) { return kv.second.workspace_id == id; });
  std::erase_if(invitations_,
                [&](const auto& kv) { return kv.second.workspace_id == id; });
  std::erase_if(documents_,
                [&](const auto& kv) { return kv.second.workspace_id == id; });
  std::erase_if(activity_,
                [&](const auto& kv) { return kv.second.workspace_id == id; });
  workspaces_.erase(it);
  return Status::Ok();
}

Result<std::vector<Membership>> MemoryMetadata::ListUserMemberships(
    std::string_view user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Membership> out;
  for (const auto& [key, m] : members_) {
    if (key.second == user_id) out.push_back(m);
  }
  return out;  // members_ is ordered by (workspace, user)
}

Result<std::vector<Invitation>> MemoryMetadata::ListInvitations(
    std::string_view workspace_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Invitation> out;
  for (const auto& [id, i] : invitations_) {
    if (i.workspace_id == workspace_id) out.push_back(i);
  }
  return out;
}

Status MemoryMetadata::DeleteInvitation(std::string_view workspace_id,
                                        std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = invitations_.find(id);
  if (it == invitations_.end() || it->second.workspace_id != workspace_id) {
    return Missing("invitation");
  }
  invitations_.erase(it);
  return Status::Ok();
}

}  // namespace weft::store
