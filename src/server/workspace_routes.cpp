// /api/v1/workspaces*: workspaces, members, invitations and the activity
// feed. Who may call what is declared once per route below (owner manages,
// viewer reads); the handlers keep the workspace invariant that at least
// one owner remains.
#include <array>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <functional>
#include <mutex>
#include <optional>
#include <set>

#include "auth/json_body.h"
#include "auth/mail_templates.h"
#include "auth/opaque_token.h"
#include "auth/single_use_token.h"
#include "server/api_error.h"
#include "server/api_layer.h"
#include "server/api_routes.h"

namespace weft::server {
namespace {

namespace json = boost::json;
using auth::Role;
using auth::RouteRequirement;

constexpr auth::StringRule kWorkspaceName{1, 100, true, false, true};

json::object WorkspaceJson(const store::Workspace& w, Role role) {
  return {{"id", w.id},
          {"name", w.name},
          {"role", auth::RoleName(role)},
          {"created_at", FormatTime(w.created_ms)}};
}

// Records an activity entry; a failure does not undo the change it
// describes (it is logged by nobody: the feed is best effort).
void Record(ApiContext& api, const std::string& workspace_id,
            const std::string& user_id, std::string kind,
            json::object detail = {}) {
  store::Activity a;
  a.workspace_id = workspace_id;
  a.user_id = user_id;
  a.kind = std::move(kind);
  a.detail = json::serialize(detail);
  a.created_ms = NowMs(api);
  (void)api.metadata->RecordActivity(a);
}

// The user ids of the workspace's owners.
Result<std::set<std::string>> OwnerIds(ApiContext& api,
                                       const std::string& workspace_id) {
  auto members = api.metadata->ListMembers(workspace_id);
  if (!members.ok()) return members.status();
  std::set<std::string> owners;
  for (const auto& m : *members) {
    if (m.role == store::Role::kOwner) owners.insert(m.user_id);
  }
  return owners;
}

Result<int> CountOwners(ApiContext& api, const std::string& workspace_id) {
  auto owners = OwnerIds(api, workspace_id);
  if (!owners.ok()) return owners.status();
  return static_cast<int>(owners->size());
}

// Changes that could leave a workspace without an owner (demote, remove,
// leave, transfer) are read-check-write sequences; they hold the stripe of
// their workspace so that two of them in this process cannot interleave.
// (Several weftd processes on one database are not covered: that needs a
// conditional update in the store.)
std::unique_lock<std::mutex> LockOwners(const std::string& workspace_id) {
  static std::array<std::mutex, 64> stripes;
  return std::unique_lock<std::mutex>(
      stripes[std::hash<std::string>{}(workspace_id) % stripes.size()]);
}

// The route checked the caller's role before the lock: a change that held
// it meanwhile (their own concurrent transfer, another owner demoting or
// removing them) may have taken it since. Every owner-only change checks
// it again under the lock; nullopt when the caller is
// still an owner. Answers as the route would have: 404 to a caller who is
// no longer a member, 403 to one who is no longer an owner.
std::optional<HttpResponse> UnlessStillOwner(ApiContext& api, ApiCall& call) {
  auto me = api.metadata->GetMembership(call.workspace_id, call.user_id());
  if (me.ok() && me->role == store::Role::kOwner) return std::nullopt;
  Status why = me.ok() ? Status::PermissionDenied(
                             "you are no longer an owner of this workspace")
                       : me.status();
  if (why.code() == StatusCode::kNotFound) {
    why = Status::NotFound("no such resource");
  }
  return StatusError(why, call.request);
}

HttpResponse LastOwner(const HttpRequest& request) {
  return ErrorResponse(409, "last_owner",
                       "a workspace needs at least one owner: make someone "
                       "else owner first",
                       request.request_id);
}

HttpResponse CreateWorkspace(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string name = v.RequiredString("name", kWorkspaceName);
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  store::Workspace w{NewId(), "", name, call.user_id(), NowMs(api)};
  w.slug = w.id;
  if (Status s = api.metadata->CreateWorkspace(w); !s.ok()) {
    return StatusError(s, call.request);
  }
  if (Status s = api.metadata->AddMember(
          {w.id, call.user_id(), store::Role::kOwner, w.created_ms});
      !s.ok()) {
    // Not left behind without an owner, which nobody could reach or
    // delete (a retry makes a new one).
    (void)api.metadata->DeleteWorkspace(w.id);
    return StatusError(s, call.request);
  }
  Record(api, w.id, call.user_id(), "workspace.created", {{"name", name}});
  return JsonResponse(WorkspaceJson(w, Role::kOwner), 201);
}

HttpResponse ListWorkspaces(ApiContext& api, ApiCall& call) {
  auto memberships = api.metadata->ListUserMemberships(call.user_id());
  if (!memberships.ok()) return StatusError(memberships.status(), call.request);
  json::array items;
  for (const auto& m : *memberships) {
    auto w = api.metadata->GetWorkspace(m.workspace_id);
    if (!w.ok()) continue;  // deleted meanwhile
    items.push_back(WorkspaceJson(*w, ToAuthRole(m.role)));
  }
  return JsonResponse(json::object{{"items", std::move(items)}});
}

HttpResponse GetWorkspace(ApiContext& api, ApiCall& call) {
  auto w = api.metadata->GetWorkspace(call.workspace_id);
  if (!w.ok()) return StatusError(w.status(), call.request);
  return JsonResponse(WorkspaceJson(*w, *call.role));
}

HttpResponse RenameWorkspace(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string name = v.RequiredString("name", kWorkspaceName);
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  auto lock = LockOwners(call.workspace_id);
  if (auto refused = UnlessStillOwner(api, call)) return *refused;
  auto w = api.metadata->GetWorkspace(call.workspace_id);
  if (!w.ok()) return StatusError(w.status(), call.request);
  if (Status s = api.metadata->RenameWorkspace(w->id, name); !s.ok()) {
    return StatusError(s, call.request);
  }
  Record(api, w->id, call.user_id(), "workspace.renamed",
         {{"from", w->name}, {"to", name}});
  w->name = name;
  return JsonResponse(WorkspaceJson(*w, *call.role));
}

HttpResponse DeleteWorkspace(ApiContext& api, ApiCall& call) {
  auto lock = LockOwners(call.workspace_id);
  if (auto refused = UnlessStillOwner(api, call)) return *refused;
  auto members = api.metadata->ListMembers(call.workspace_id);
  if (!members.ok()) return StatusError(members.status(), call.request);
  auto docs = api.metadata->ListDocuments(call.workspace_id, true);
  if (!docs.ok()) return StatusError(docs.status(), call.request);
  if (Status s = api.metadata->DeleteWorkspace(call.workspace_id); !s.ok()) {
    return StatusError(s, call.request);
  }
  lock.unlock();  // the purge below may take a while
  for (const auto& m : *members) NotifyAccessChanged(api, m.user_id);
  // The content goes too (after the metadata: nobody can subscribe any
  // more). A failure leaves content no document row points to, and no
  // sweep will find it: the answer names every such document (500, in the
  // request log); the others are purged all the same.
  if (api.purge_document) {
    std::string left;
    for (const auto& d : *docs) {
      if (Status s = api.purge_document(d.id); !s.ok()) {
        left += (left.empty() ? "" : "; ") + d.id + " (" + s.message() + ")";
      }
    }
    if (!left.empty()) {
      return ErrorResponse(500, "internal",
                           "the workspace was deleted, but the content of "
                           "these documents was not: " +
                               left,
                           call.request.request_id);
    }
  }
  return NoContent();
}

HttpResponse ListMembers(ApiContext& api, ApiCall& call) {
  auto members = api.metadata->ListMembers(call.workspace_id);
  if (!members.ok()) return StatusError(members.status(), call.request);
  json::array items;
  for (const auto& m : *members) {
    auto user = api.metadata->GetUser(m.user_id);
    if (!user.ok()) continue;
    items.push_back(json::object{{"user_id", m.user_id},
                                 {"email", user->email},
                                 {"display_name", user->display_name},
                                 {"role", auth::RoleName(ToAuthRole(m.role))}});
  }
  return JsonResponse(json::object{{"items", std::move(items)}});
}

// The addressed member ({user_id}), or a 404 answer.
Result<store::Membership> TargetMember(ApiContext& api, ApiCall& call) {
  auto it = call.params.find("user_id");
  return api.metadata->GetMembership(call.workspace_id, it->second);
}

HttpResponse ChangeRole(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string role_name = v.RequiredEnum("role", {"owner", "editor", "viewer"});
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  Role role = *auth::ParseRole(role_name);
  auto lock = LockOwners(call.workspace_id);
  if (auto refused = UnlessStillOwner(api, call)) return *refused;
  auto target = TargetMember(api, call);
  if (!target.ok()) return StatusError(target.status(), call.request);
  if (target->role == store::Role::kOwner && role != Role::kOwner) {
    auto owners = CountOwners(api, call.workspace_id);
    if (!owners.ok()) return StatusError(owners.status(), call.request);
    if (*owners <= 1) return LastOwner(call.request);
  }
  if (Status s = api.metadata->SetMemberRole(call.workspace_id, target->user_id,
                                             ToStoreRole(role));
      !s.ok()) {
    return StatusError(s, call.request);
  }
  Record(api, call.workspace_id, call.user_id(), "member.role_changed",
         {{"user_id", target->user_id},
          {"from", auth::RoleName(ToAuthRole(target->role))},
          {"to", role_name}});
  NotifyAccessChanged(api, target->user_id);
  auto user = api.metadata->GetUser(target->user_id);
  if (!user.ok()) return StatusError(user.status(), call.request);
  return JsonResponse(json::object{{"user_id", user->id},
                                   {"email", user->email},
                                   {"display_name", user->display_name},
                                   {"role", role_name}});
}

// Deletes the invitations to `user_id`'s email in `workspace_id` not yet
// accepted (under the workspace's lock).
Status RevokeInvitationsTo(ApiContext& api, const std::string& workspace_id,
                           const std::string& user_id) {
  auto user = api.metadata->GetUser(user_id);
  if (!user.ok()) {
    return user.status().code() == StatusCode::kNotFound ? Status::Ok()
                                                         : user.status();
  }
  auto invitations = api.metadata->ListInvitations(workspace_id);
  if (!invitations.ok()) return invitations.status();
  for (const auto& i : *invitations) {
    if (i.email != user->email || i.accepted_ms) continue;
    Status s = api.metadata->DeleteInvitation(workspace_id, i.id);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status::Ok();
}

// Removes `user_id` unless they are the last owner; `by_owner`: only
// while the caller is still an owner.
HttpResponse RemoveMembership(ApiContext& api, ApiCall& call,
                              const store::Membership& member, std::string kind,
                              bool by_owner) {
  auto lock = LockOwners(call.workspace_id);
  if (by_owner) {
    if (auto refused = UnlessStillOwner(api, call)) return *refused;
  }
  // Re-read under the lock: the role may have changed since.
  auto current = api.metadata->GetMembership(call.workspace_id, member.user_id);
  if (!current.ok()) return StatusError(current.status(), call.request);
  if (current->role == store::Role::kOwner) {
    auto owners = CountOwners(api, call.workspace_id);
    if (!owners.ok()) return StatusError(owners.status(), call.request);
    if (*owners <= 1) return LastOwner(call.request);
  }
  // Pending invitations to their address go too (invitations made before
  // members could not be invited): one would let them back in. First, so
  // that a failure here leaves the member as they were.
  if (Status s = RevokeInvitationsTo(api, call.workspace_id, member.user_id);
      !s.ok()) {
    return StatusError(s, call.request);
  }
  if (Status s = api.metadata->RemoveMember(call.workspace_id, member.user_id);
      !s.ok()) {
    return StatusError(s, call.request);
  }
  Record(api, call.workspace_id, call.user_id(), std::move(kind),
         {{"user_id", member.user_id}});
  NotifyAccessChanged(api, member.user_id);
  return NoContent();
}

HttpResponse RemoveMember(ApiContext& api, ApiCall& call) {
  auto target = TargetMember(api, call);
  if (!target.ok()) return StatusError(target.status(), call.request);
  return RemoveMembership(api, call, *target, "member.removed",
                          /*by_owner=*/true);
}

HttpResponse Leave(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  auto me = api.metadata->GetMembership(call.workspace_id, call.user_id());
  if (!me.ok()) return StatusError(me.status(), call.request);
  return RemoveMembership(api, call, *me, "member.left", /*by_owner=*/false);
}

HttpResponse TransferOwnership(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string user_id = v.RequiredString("user_id", {1, 64});
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  if (user_id == call.user_id()) {
    return ErrorResponse(409, "already_owner", "you are the owner already",
                         call.request.request_id);
  }
  auto lock = LockOwners(call.workspace_id);
  if (auto refused = UnlessStillOwner(api, call)) return *refused;
  auto target = api.metadata->GetMembership(call.workspace_id, user_id);
  if (!target.ok()) {
    auth::FieldErrors errors;
    errors.Add("user_id", "not_a_member");
    return ValidationError(errors, call.request);
  }
  // New owner first, so the workspace never lacks one.
  if (Status s = api.metadata->SetMemberRole(call.workspace_id, user_id,
                                             store::Role::kOwner);
      !s.ok()) {
    return StatusError(s, call.request);
  }
  // Their live sessions take the new role even if what follows fails.
  NotifyAccessChanged(api, user_id);
  if (Status s = api.metadata->SetMemberRole(call.workspace_id, call.user_id(),
                                             store::Role::kEditor);
      !s.ok()) {
    return StatusError(s, call.request);
  }
  Record(api, call.workspace_id, call.user_id(), "ownership.transferred",
         {{"to", user_id}});
  NotifyAccessChanged(api, call.user_id());
  return NoContent();
}

// `sender_owner`: whoever sent `i` is still an owner (OwnerIds); an
// invitation speaks for its sender only while they are one.
json::object InvitationJson(const store::Invitation& i, std::int64_t now_ms,
                            bool sender_owner) {
  std::string status = i.accepted_ms            ? "accepted"
                       : now_ms >= i.expires_ms ? "expired"
                       : !sender_owner          ? "void"
                                                : "pending";
  return {{"id", i.id},
          {"email", i.email},
          {"role", auth::RoleName(ToAuthRole(i.role))},
          {"status", status},
          {"created_at", FormatTime(i.created_ms)},
          {"expires_at", FormatTime(i.expires_ms)}};
}

HttpResponse CreateInvitation(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  std::string email = v.RequiredEmail("email");
  std::string role_name = v.RequiredEnum("role", {"owner", "editor", "viewer"});
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  Role role = *auth::ParseRole(role_name);
  // An owner demoted or removed meanwhile invites nobody (as for roles).
  auto lock = LockOwners(call.workspace_id);
  if (auto refused = UnlessStillOwner(api, call)) return *refused;
  std::int64_t now_ms = NowMs(api);
  // One invitation per email and workspace: a pending one must be revoked
  // first; a used or expired one is replaced.
  auto existing = api.metadata->ListInvitations(call.workspace_id);
  if (!existing.ok()) return StatusError(existing.status(), call.request);
  auto owners = OwnerIds(api, call.workspace_id);
  if (!owners.ok()) return StatusError(owners.status(), call.request);
  // A member needs none: a pending one would let them back in, through
  // the link, after they were removed.
  if (auto invitee = api.metadata->GetUserByEmail(email); invitee.ok()) {
    auto member = api.metadata->GetMembership(call.workspace_id, invitee->id);
    if (member.ok()) {
      return ErrorResponse(409, "already_member",
                           "this email belongs to a member of the workspace",
                           call.request.request_id);
    }
    if (member.status().code() != StatusCode::kNotFound) {
      return StatusError(member.status(), call.request);
    }
  } else if (invitee.status().code() != StatusCode::kNotFound) {
    return StatusError(invitee.status(), call.request);
  }
  for (const auto& i : *existing) {
    if (i.email != email) continue;
    if (!i.accepted_ms && now_ms < i.expires_ms &&
        owners->contains(i.inviter_id)) {
      return ErrorResponse(409, "invitation_pending",
                           "this email has a pending invitation; revoke it "
                           "to send a new one",
                           call.request.request_id);
    }
    if (Status s = api.metadata->DeleteInvitation(call.workspace_id, i.id);
        !s.ok()) {
      return StatusError(s, call.request);
    }
  }
  // Counted once nothing else refuses it: only what is sent.
  if (api.invitation_limiter != nullptr) {
    auto sent = api.invitation_limiter->Take("invite:" + call.user_id(),
                                             api.clock->Now());
    if (!sent.allowed) {
      return RateLimited(api, "invitations_per_user", sent, call.request);
    }
  }
  auto token = auth::IssueOpaqueToken(auth::TokenPurpose::kInvitation);
  store::Invitation inv;
  inv.id = NewId();
  inv.workspace_id = call.workspace_id;
  inv.email = email;
  inv.role = ToStoreRole(role);
  inv.token_hash = token.hash;
  inv.inviter_id = call.user_id();
  inv.created_ms = now_ms;
  inv.expires_ms =
      now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(
                   api.invitation_lifetime)
                   .count();
  if (Status s = api.metadata->CreateInvitation(inv); !s.ok()) {
    return StatusError(s, call.request);
  }
  std::string url = api.public_base_url + "/invitations/" + token.token;
  auto w = api.metadata->GetWorkspace(call.workspace_id);
  if (w.ok()) {
    // The owner also gets the link in the answer: a lost mail is no loss.
    (void)api.mailer->Send(auth::InvitationMail(email, call.user->display_name,
                                                w->name, role, url,
                                                api.invitation_lifetime));
  }
  Record(api, call.workspace_id, call.user_id(), "member.invited",
         {{"email", email}, {"role", role_name}});
  return JsonResponse(json::object{{"id", inv.id},
                                   {"token", token.token},
                                   {"url", url},
                                   {"role", role_name},
                                   {"expires_at", FormatTime(inv.expires_ms)}},
                      201);
}

HttpResponse ListInvitations(ApiContext& api, ApiCall& call) {
  auto list = api.metadata->ListInvitations(call.workspace_id);
  if (!list.ok()) return StatusError(list.status(), call.request);
  std::int64_t now_ms = NowMs(api);
  auto owners = OwnerIds(api, call.workspace_id);
  if (!owners.ok()) return StatusError(owners.status(), call.request);
  json::array items;
  for (const auto& i : *list) {
    items.push_back(InvitationJson(i, now_ms, owners->contains(i.inviter_id)));
  }
  return JsonResponse(json::object{{"items", std::move(items)}});
}

HttpResponse RevokeInvitation(ApiContext& api, ApiCall& call) {
  auto lock = LockOwners(call.workspace_id);
  if (auto refused = UnlessStillOwner(api, call)) return *refused;
  if (Status s = api.metadata->DeleteInvitation(
          call.workspace_id, call.params.at("invitation_id"));
      !s.ok()) {
    return StatusError(s, call.request);
  }
  return NoContent();
}

HttpResponse AcceptInvitation(ApiContext& api, ApiCall& call) {
  auth::JsonBodyValidator v(call.body);
  if (auto errors = v.Finish(); !errors.empty()) {
    return ValidationError(errors, call.request);
  }
  auto not_found = [&] {
    return ErrorResponse(404, "not_found",
                         "no such invitation; ask for a new one",
                         call.request.request_id);
  };
  auto hash = auth::HashOpaqueToken(auth::TokenPurpose::kInvitation,
                                    call.params.at("token"));
  if (!hash.ok()) return not_found();
  auto inv = api.metadata->GetInvitationByToken(*hash);
  if (!inv.ok()) {
    if (inv.status().code() == StatusCode::kNotFound) return not_found();
    return StatusError(inv.status(), call.request);
  }
  auth::SingleUseTokenRecord record{
      inv->accepted_ms.has_value(), false,
      auth::TimePoint(std::chrono::milliseconds(inv->expires_ms))};
  auto outcome = auth::DecideSingleUse(record, api.clock->Now());
  if (outcome == auth::SingleUseOutcome::kAlreadyUsed) {
    return ErrorResponse(409, "invitation_used",
                         "this invitation has already been used; ask for a "
                         "new one",
                         call.request.request_id);
  }
  if (outcome == auth::SingleUseOutcome::kExpired) {
    return ErrorResponse(410, "invitation_expired",
                         "this invitation has expired; ask for a new one",
                         call.request.request_id);
  }
  if (outcome != auth::SingleUseOutcome::kAccept) return not_found();
  // For the address it was sent to (both are stored lower-cased): a link
  // that reaches someone else, forwarded or leaked, lets nobody else in.
  if (call.user->email != inv->email) {
    return ErrorResponse(403, "invitation_for_another_account",
                         "this invitation was sent to another email "
                         "address; sign in with that one",
                         call.request.request_id);
  }
  // An invitation speaks for its owner only while they are one: an owner
  // on the way out could otherwise invite an address of their own as
  // owner and come back through it after being removed or demoted.
  auto lock = LockOwners(inv->workspace_id);
  auto owners = OwnerIds(api, inv->workspace_id);
  if (!owners.ok()) return StatusError(owners.status(), call.request);
  if (!owners->contains(inv->inviter_id)) {
    return ErrorResponse(410, "invitation_void",
                         "whoever sent this invitation is no longer an owner "
                         "of the workspace; ask for a new one",
                         call.request.request_id);
  }
  Status s = api.metadata->AcceptInvitation(*hash, call.user_id(), NowMs(api));
  if (s.code() == StatusCode::kAlreadyExists) {
    return ErrorResponse(409, "already_member",
                         "you are already a member of this workspace",
                         call.request.request_id);
  }
  if (s.code() == StatusCode::kFailedPrecondition) {
    return ErrorResponse(409, "invitation_used",
                         "this invitation has already been used; ask for a "
                         "new one",
                         call.request.request_id);
  }
  if (!s.ok()) return StatusError(s, call.request);
  Record(api, inv->workspace_id, call.user_id(), "member.joined",
         {{"role", auth::RoleName(ToAuthRole(inv->role))}});
  NotifyAccessChanged(api, call.user_id());
  auto w = api.metadata->GetWorkspace(inv->workspace_id);
  if (!w.ok()) return StatusError(w.status(), call.request);
  return JsonResponse(WorkspaceJson(*w, ToAuthRole(inv->role)));
}

HttpResponse ListActivity(ApiContext& api, ApiCall& call) {
  std::int64_t before = 0;
  std::size_t limit = 50;
  std::string cursor = QueryParam(call.request, "cursor");
  std::string limit_text = QueryParam(call.request, "limit");
  auth::FieldErrors errors;
  if (!cursor.empty()) {
    auto [p, ec] =
        std::from_chars(cursor.data(), cursor.data() + cursor.size(), before);
    if (ec != std::errc() || p != cursor.data() + cursor.size() ||
        before <= 0) {
      errors.Add("cursor", "invalid");
    }
  }
  if (!limit_text.empty()) {
    auto [p, ec] = std::from_chars(
        limit_text.data(), limit_text.data() + limit_text.size(), limit);
    if (ec != std::errc() || p != limit_text.data() + limit_text.size() ||
        limit < 1 || limit > 200) {
      errors.Add("limit", "out_of_range");
    }
  }
  if (!errors.empty()) return ValidationError(errors, call.request);
  // One more than asked: whether a next page exists, without an empty
  // page behind a cursor when the last one is exactly full.
  auto entries =
      api.metadata->ListActivity(call.workspace_id, before, limit + 1);
  if (!entries.ok()) return StatusError(entries.status(), call.request);
  const bool more = entries->size() > limit;
  if (more) entries->pop_back();
  json::array items;
  for (const auto& a : *entries) {
    boost::system::error_code ec;
    json::value detail = json::parse(a.detail, ec);
    if (ec) detail = json::object{};
    // Whom an owner invited is for owners, as the invitations list is:
    // editors and viewers see that someone was invited, as what.
    if (a.kind == "member.invited" && call.role != Role::kOwner &&
        detail.is_object()) {
      detail.as_object().erase("email");
    }
    items.push_back(
        json::object{{"id", std::to_string(a.id)},
                     {"kind", a.kind},
                     {"user_id", a.user_id},
                     {"document_id", a.document_id ? json::value(*a.document_id)
                                                   : json::value(nullptr)},
                     {"detail", detail},
                     {"created_at", FormatTime(a.created_ms)}});
  }
  json::value next = nullptr;
  if (more) next = std::to_string(entries->back().id);
  return JsonResponse(
      json::object{{"items", std::move(items)}, {"next_cursor", next}});
}

}  // namespace

void AddWorkspaceRoutes(Router& router, ApiContext& api) {
  auto signed_in = RouteRequirement::SignedIn();
  auto viewer = RouteRequirement::Member(Role::kViewer);
  auto owner = RouteRequirement::Member(Role::kOwner);
  constexpr auto kWs = ApiScope::kWorkspace;
  constexpr auto kUser = ApiLimit::kPerUser;
  AddApiRoute(
      router, api,
      {"POST", "/api/v1/workspaces", signed_in, ApiScope::kNone, kUser, true},
      CreateWorkspace);
  AddApiRoute(router, api, {"GET", "/api/v1/workspaces", signed_in},
              ListWorkspaces);
  AddApiRoute(router, api, {"GET", "/api/v1/workspaces/{id}", viewer, kWs},
              GetWorkspace);
  AddApiRoute(router, api, {"PATCH", "/api/v1/workspaces/{id}", owner, kWs},
              RenameWorkspace);
  AddApiRoute(router, api, {"DELETE", "/api/v1/workspaces/{id}", owner, kWs},
              DeleteWorkspace);
  AddApiRoute(router, api,
              {"GET", "/api/v1/workspaces/{id}/members", viewer, kWs},
              ListMembers);
  AddApiRoute(
      router, api,
      {"PATCH", "/api/v1/workspaces/{id}/members/{user_id}", owner, kWs},
      ChangeRole);
  AddApiRoute(
      router, api,
      {"DELETE", "/api/v1/workspaces/{id}/members/{user_id}", owner, kWs},
      RemoveMember);
  AddApiRoute(router, api,
              {"POST", "/api/v1/workspaces/{id}/leave", viewer, kWs}, Leave);
  AddApiRoute(
      router, api,
      {"POST", "/api/v1/workspaces/{id}/transfer-ownership", owner, kWs},
      TransferOwnership);
  AddApiRoute(router, api,
              {"POST",
               "/api/v1/workspaces/{id}/invitations",
               owner,
               kWs,
               kUser,
               true,
               {"token", "url"}},
              CreateInvitation);
  AddApiRoute(router, api,
              {"GET", "/api/v1/workspaces/{id}/invitations", owner, kWs},
              ListInvitations);
  AddApiRoute(router, api,
              {"DELETE", "/api/v1/workspaces/{id}/invitations/{invitation_id}",
               owner, kWs},
              RevokeInvitation);
  AddApiRoute(router, api,
              {"POST", "/api/v1/invitations/{token}/accept", signed_in},
              AcceptInvitation);
  AddApiRoute(router, api,
              {"GET", "/api/v1/workspaces/{id}/activity", viewer, kWs},
              ListActivity);
}

}  // namespace weft::server
