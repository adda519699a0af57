#pragma once

#include "auth/access_token.h"
#include "server/sync_access.h"
#include "store/metadata.h"

namespace weft::server {

// Sync authentication by the REST API's access tokens (HS256 JWT): the
// signature and expiry, and — as for REST — that the token's `ver` still
// matches its user (a password change or reset retires older tokens).
class JwtSyncAuthenticator : public SyncAuthenticator {
 public:
  JwtSyncAuthenticator(const auth::AccessTokenCodec& codec,
                       store::MetadataStore& metadata)
      : codec_(codec), metadata_(metadata) {}
  Result<Identity> Authenticate(std::string_view access_token) override;
  Status StillValid(const Identity& identity) override;

 private:
  const auth::AccessTokenCodec& codec_;
  store::MetadataStore& metadata_;
};

// Document roles from account metadata: the user's membership role in the
// document's workspace. A missing, soft-deleted or foreign document is
// kNotFound alike.
class MetadataDocumentAccess : public DocumentAccess {
 public:
  explicit MetadataDocumentAccess(store::MetadataStore& metadata)
      : metadata_(metadata) {}
  Result<proto::Role> RoleFor(const std::string& user_id,
                              const std::string& doc) override;

 private:
  store::MetadataStore& metadata_;
};

}  // namespace weft::server
