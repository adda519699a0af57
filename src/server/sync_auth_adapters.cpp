#include "server/sync_auth_adapters.h"

#include <chrono>

#include "server/api_layer.h"

namespace weft::server {

Result<Identity> JwtSyncAuthenticator::Authenticate(
    std::string_view access_token) {
  auto claims = codec_.Verify(access_token, std::chrono::system_clock::now());
  if (!claims.ok()) {
    return Status::Unauthenticated("invalid access token: " +
                                   claims.status().message());
  }
  auto user = metadata_.GetUser(claims->subject);
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kNotFound) {
      return Status::Unauthenticated("the token's user no longer exists");
    }
    return user.status();
  }
  if (TokenVersion(*user) != claims->version) {
    return Status::Unauthenticated("the token was retired (password changed)");
  }
  WEFT_RETURN_IF_ERROR(SessionStillOpen(metadata_, claims->session_id));
  return Identity{claims->subject,
                  std::chrono::system_clock::time_point(
                      std::chrono::seconds(claims->expires_at)),
                  claims->version, claims->session_id};
}

Status JwtSyncAuthenticator::StillValid(const Identity& identity) {
  auto user = metadata_.GetUser(identity.user_id);
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kNotFound) {
      return Status::Unauthenticated("the user no longer exists");
    }
    return user.status();
  }
  if (TokenVersion(*user) != identity.token_version) {
    return Status::Unauthenticated("the password was changed; sign in again");
  }
  return SessionStillOpen(metadata_, identity.session_id);
}

Result<proto::Role> MetadataDocumentAccess::RoleFor(const std::string& user_id,
                                                    const std::string& doc) {
  auto info = metadata_.GetDocument(doc);
  if (!info.ok()) {
    if (info.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no such document");
    }
    return info.status();
  }
  if (info->deleted_ms) return Status::NotFound("no such document");
  auto member = metadata_.GetMembership(info->workspace_id, user_id);
  if (!member.ok()) {
    if (member.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no such document");
    }
    return member.status();
  }
  if (member->role == store::Role::kOwner) return proto::Role::kOwner;
  if (member->role == store::Role::kViewer) return proto::Role::kViewer;
  return proto::Role::kEditor;
}

}  // namespace weft::server
