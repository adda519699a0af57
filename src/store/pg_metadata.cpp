#include "store/pg_metadata.h"

#include <cstdlib>
#include <functional>

namespace weft::store {

using pg::Params;
using pg::Res;

const char* const kPgMetadataSchema = R"sql(
CREATE TABLE users (
  id            text   PRIMARY KEY,
  email         text   NOT NULL UNIQUE,
  display_name  text   NOT NULL,
  password_hash text   NOT NULL,
  created_ms    bigint NOT NULL
);
CREATE TABLE refresh_token_families (
  id         text    PRIMARY KEY,
  user_id    text    NOT NULL REFERENCES users (id),
  token_hash text    NOT NULL UNIQUE,
  generation bigint  NOT NULL,
  created_ms bigint  NOT NULL,
  expires_ms bigint  NOT NULL,
  revoked    boolean NOT NULL DEFAULT false
);
CREATE INDEX refresh_token_families_user ON refresh_token_families (user_id);
CREATE TABLE workspaces (
  id         text   PRIMARY KEY,
  slug       text   NOT NULL UNIQUE,
  name       text   NOT NULL,
  owner_id   text   NOT NULL REFERENCES users (id),
  created_ms bigint NOT NULL
);
CREATE TABLE memberships (
  workspace_id text   NOT NULL REFERENCES workspaces (id),
  user_id      text   NOT NULL REFERENCES users (id),
  role         text   NOT NULL
               CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
  created_ms   bigint NOT NULL,
  PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);
CREATE TABLE invitations (
  id           text   PRIMARY KEY,
  workspace_id text   NOT NULL REFERENCES workspaces (id),
  email        text   NOT NULL,
  role         text   NOT NULL
               CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
  token_hash   text   NOT NULL UNIQUE,
  inviter_id   text   NOT NULL REFERENCES users (id),
  created_ms   bigint NOT NULL,
  expires_ms   bigint NOT NULL,
  accepted_ms  bigint,
  UNIQUE (workspace_id, email)
);
CREATE TABLE documents (
  id           text   PRIMARY KEY,
  workspace_id text   NOT NULL REFERENCES workspaces (id),
  kind         text   NOT NULL CHECK (kind IN ('text', 'board', 'canvas')),
  title        text   NOT NULL,
  created_by   text   NOT NULL REFERENCES users (id),
  created_ms   bigint NOT NULL,
  updated_ms   bigint NOT NULL,
  deleted_ms   bigint
);
CREATE INDEX documents_workspace ON documents (workspace_id, id);
CREATE TABLE activity (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id text   NOT NULL,
  document_id  text,
  user_id      text   NOT NULL,
  kind         text   NOT NULL,
  detail       text   NOT NULL,
  created_ms   bigint NOT NULL
);
CREATE INDEX activity_workspace ON activity (workspace_id, id);
CREATE TABLE idempotency_keys (
  user_id       text   NOT NULL,
  idem_key      text   NOT NULL,
  request_hash  text   NOT NULL,
  status_code   int    NOT NULL,
  response_body bytea  NOT NULL,
  created_ms    bigint NOT NULL,
  PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_ms);
)sql";

const std::vector<pg::StatementDef>& PgMetadataStatements() {
  static const std::vector<pg::StatementDef> kStatements = {
      {"m_create_user",
       "INSERT INTO users (id, email, display_name, password_hash, created_ms,"
       " token_version) VALUES ($1::text, $2::text, $3::text, $4::text,"
       " $5::bigint, $6::bigint)"},
      {"m_get_user",
       "SELECT id, email, display_name, password_hash, created_ms,"
       " token_version FROM users WHERE id = $1::text"},
      {"m_get_user_by_email",
       "SELECT id, email, display_name, password_hash, created_ms,"
       " token_version FROM users WHERE email = $1::text"},
      {"m_set_password",
       "UPDATE users SET password_hash = $2::text, token_version = $4::bigint"
       " WHERE id = $1::text AND password_hash = $3::text"},
      {"m_create_family",
       "INSERT INTO refresh_token_families (id, user_id, token_hash,"
       " generation, created_ms, expires_ms, revoked, token_version,"
       " prev_token_hash) VALUES ($1::text, $2::text, $3::text, $4::bigint,"
       " $5::bigint, $6::bigint, $7::bigint <> 0, $8::bigint, $9::text)"},
      {"m_get_family",
       "SELECT id, user_id, token_hash, generation, created_ms, expires_ms,"
       " revoked, token_version, prev_token_hash FROM refresh_token_families"
       " WHERE id = $1::text"},
      {"m_get_family_for_update",
       "SELECT id, user_id, token_hash, generation, created_ms, expires_ms,"
       " revoked, token_version, prev_token_hash FROM refresh_token_families"
       " WHERE id = $1::text FOR UPDATE"},
      {"m_rotate_family",
       "UPDATE refresh_token_families SET prev_token_hash = token_hash,"
       " token_hash = $2::text, generation = generation + 1, expires_ms ="
       " $3::bigint WHERE id = $1::text"},
      {"m_revoke_family",
       "UPDATE refresh_token_families SET revoked = true WHERE id = $1::text"},
      {"m_revoke_user_families",
       "UPDATE refresh_token_families SET revoked = true WHERE user_id ="
       " $1::text"},
      {"m_create_workspace",
       "INSERT INTO workspaces (id, slug, name, owner_id, created_ms) VALUES"
       " ($1::text, $2::text, $3::text, $4::text, $5::bigint)"},
      {"m_get_workspace",
       "SELECT id, slug, name, owner_id, created_ms FROM workspaces WHERE id ="
       " $1::text"},
      {"m_get_workspace_by_slug",
       "SELECT id, slug, name, owner_id, created_ms FROM workspaces WHERE slug"
       " = $1::text"},
      {"m_add_member",
       "INSERT INTO memberships (workspace_id, user_id, role, created_ms)"
       " VALUES ($1::text, $2::text, $3::text, $4::bigint)"},
      {"m_get_member",
       "SELECT workspace_id, user_id, role, created_ms FROM memberships WHERE"
       " workspace_id = $1::text AND user_id = $2::text"},
      {"m_set_role",
       "UPDATE memberships SET role = $3::text WHERE workspace_id = $1::text"
       " AND user_id = $2::text"},
      {"m_set_display_name",
       "UPDATE users SET display_name = $2::text WHERE id = $1::text"},
      {"m_rename_workspace",
       "UPDATE workspaces SET name = $2::text WHERE id = $1::text"},
      // One statement, so atomic; foreign keys are checked at its end.
      {"m_delete_workspace",
       "WITH m AS (DELETE FROM memberships WHERE workspace_id = $1::text),"
       " i AS (DELETE FROM invitations WHERE workspace_id = $1::text),"
       " d AS (DELETE FROM documents WHERE workspace_id = $1::text),"
       " a AS (DELETE FROM activity WHERE workspace_id = $1::text)"
       " DELETE FROM workspaces WHERE id = $1::text"},
      {"m_list_user_memberships",
       "SELECT workspace_id, user_id, role, created_ms FROM memberships WHERE"
       " user_id = $1::text ORDER BY workspace_id COLLATE \"C\""},
      {"m_list_invitations",
       "SELECT id, workspace_id, email, role, token_hash, inviter_id,"
       " created_ms, expires_ms, accepted_ms FROM invitations WHERE"
       " workspace_id = $1::text ORDER BY id COLLATE \"C\""},
      {"m_delete_invitation",
       "DELETE FROM invitations WHERE workspace_id = $1::text AND id ="
       " $2::text"},
      {"m_remove_member",
       "DELETE FROM memberships WHERE workspace_id = $1::text AND user_id ="
       " $2::text"},
      {"m_list_members",
       "SELECT workspace_id, user_id, role, created_ms FROM memberships WHERE"
       " workspace_id = $1::text ORDER BY user_id COLLATE \"C\""},
      {"m_create_invitation",
       "INSERT INTO invitations (id, workspace_id, email, role, token_hash,"
       " inviter_id, created_ms, expires_ms) VALUES ($1::text, $2::text,"
       " $3::text, $4::text, $5::text, $6::text, $7::bigint, $8::bigint)"},
      {"m_get_invitation",
       "SELECT id, workspace_id, email, role, token_hash, inviter_id,"
       " created_ms, expires_ms, accepted_ms FROM invitations WHERE"
       " token_hash = $1::text"},
      {"m_get_invitation_for_update",
       "SELECT id, workspace_id, email, role, token_hash, inviter_id,"
       " created_ms, expires_ms, accepted_ms FROM invitations WHERE"
       " token_hash = $1::text FOR UPDATE"},
      {"m_accept_invitation",
       "UPDATE invitations SET accepted_ms = $2::bigint WHERE id = $1::text"},
      {"m_create_document",
       "INSERT INTO documents (id, workspace_id, kind, title, created_by,"
       " created_ms, updated_ms, deleted_ms) VALUES ($1::text, $2::text,"
       " $3::text, $4::text, $5::text, $6::bigint, $7::bigint, $8::bigint)"},
      {"m_get_document",
       "SELECT id, workspace_id, kind, title, created_by, created_ms,"
       " updated_ms, deleted_ms FROM documents WHERE id = $1::text"},
      {"m_list_documents",
       "SELECT id, workspace_id, kind, title, created_by, created_ms,"
       " updated_ms, deleted_ms FROM documents WHERE workspace_id = $1::text"
       " AND ($2::bigint <> 0 OR deleted_ms IS NULL)"
       " ORDER BY id COLLATE \"C\""},
      {"m_rename_document",
       "UPDATE documents SET title = $2::text, updated_ms = $3::bigint WHERE"
       " id = $1::text"},
      {"m_delete_document",
       "UPDATE documents SET deleted_ms = $2::bigint, updated_ms = $2::bigint"
       " WHERE id = $1::text"},
      {"m_list_deleted_before",
       "SELECT id, workspace_id, kind, title, created_by, created_ms,"
       " updated_ms, deleted_ms FROM documents WHERE deleted_ms < $1::bigint"
       " ORDER BY deleted_ms LIMIT $2::bigint"},
      {"m_purge_document",
       "DELETE FROM documents WHERE id = $1::text AND deleted_ms IS NOT NULL"},
      {"m_restore_document",
       "UPDATE documents SET deleted_ms = NULL, updated_ms = $2::bigint WHERE"
       " id = $1::text"},
      {"m_record_activity",
       "INSERT INTO activity (workspace_id, document_id, user_id, kind,"
       " detail, created_ms) VALUES ($1::text, $2::text, $3::text, $4::text,"
       " $5::text, $6::bigint) RETURNING id"},
      {"m_list_activity",
       "SELECT id, workspace_id, document_id, user_id, kind, detail,"
       " created_ms FROM activity WHERE workspace_id = $1::text AND"
       " ($2::bigint = 0 OR id < $2::bigint) ORDER BY id DESC LIMIT"
       " $3::bigint"},
      {"m_put_idempotency",
       "INSERT INTO idempotency_keys (user_id, idem_key, request_hash,"
       " status_code, response_body, created_ms) VALUES ($1::text, $2::text,"
       " $3::text, $4::bigint::int, $5::bytea, $6::bigint)"},
      {"m_get_idempotency",
       "SELECT user_id, idem_key, request_hash, status_code, response_body,"
       " created_ms FROM idempotency_keys WHERE user_id = $1::text AND"
       " idem_key = $2::text"},
      {"m_finish_idempotency",
       "UPDATE idempotency_keys SET status_code = $3::bigint::int, "
       "response_body ="
       " $4::bytea WHERE user_id = $1::text AND idem_key = $2::text AND"
       " status_code = 0"},
      {"m_release_idempotency",
       "DELETE FROM idempotency_keys WHERE user_id = $1::text AND idem_key ="
       " $2::text AND status_code = 0 AND created_ms = $3::bigint"},
      {"m_expire_idempotency",
       "DELETE FROM idempotency_keys WHERE created_ms < $1::bigint"},
      // Entries are written one at a time under this lock, so that their
      // ids become visible in order (a reader remembers the last id).
      {"m_lock_access_changes",
       "SELECT pg_advisory_xact_lock(8603110946617401346)"},
      {"m_record_access_change",
       "INSERT INTO access_changes (user_id, at_ms) VALUES ($1::text,"
       " $2::bigint) RETURNING id"},
      {"m_list_access_changes",
       "SELECT id, user_id, at_ms FROM access_changes WHERE id > $1::bigint"
       " ORDER BY id LIMIT $2::bigint"},
      {"m_last_access_change",
       "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM"
       " access_changes_id_seq"},
      {"m_prune_access_changes",
       "DELETE FROM access_changes WHERE at_ms < $1::bigint"},
  };
  return kStatements;
}

namespace {

std::int64_t Affected(const Res& r) {
  const char* n = PQcmdTuples(r.get());
  return (n == nullptr || *n == '\0') ? 0 : std::atoll(n);
}

User ReadUser(const Res& r, int i) {
  return {r.Bytes(i, 0), r.Bytes(i, 1), r.Bytes(i, 2),
          r.Bytes(i, 3), r.Int(i, 4),   r.Int(i, 5)};
}
RefreshTokenFamily ReadFamily(const Res& r, int i) {
  return {r.Bytes(i, 0),    r.Bytes(i, 1), r.Bytes(i, 2),
          r.Int(i, 3),      r.Int(i, 4),   r.Int(i, 5),
          r.Int(i, 6) != 0, r.Int(i, 7),   r.Bytes(i, 8)};
}
Workspace ReadWorkspace(const Res& r, int i) {
  return {r.Bytes(i, 0), r.Bytes(i, 1), r.Bytes(i, 2), r.Bytes(i, 3),
          r.Int(i, 4)};
}
Result<Membership> ReadMembership(const Res& r, int i) {
  auto role = ParseRole(r.Bytes(i, 2));
  if (!role.ok()) return role.status();
  return Membership{r.Bytes(i, 0), r.Bytes(i, 1), *role, r.Int(i, 3)};
}
Result<Invitation> ReadInvitation(const Res& r, int i) {
  auto role = ParseRole(r.Bytes(i, 3));
  if (!role.ok()) return role.status();
  Invitation inv{r.Bytes(i, 0), r.Bytes(i, 1), r.Bytes(i, 2),
                 *role,         r.Bytes(i, 4), r.Bytes(i, 5),
                 r.Int(i, 6),   r.Int(i, 7),   std::nullopt};
  if (!r.IsNull(i, 8)) inv.accepted_ms = r.Int(i, 8);
  return inv;
}
Result<DocumentInfo> ReadDocument(const Res& r, int i);

// Every row of a documents SELECT.
Result<std::vector<DocumentInfo>> ReadDocuments(const Result<Res>& r) {
  if (!r.ok()) return r.status();
  std::vector<DocumentInfo> out;
  for (int i = 0; i < r->rows(); ++i) {
    auto d = ReadDocument(*r, i);
    if (!d.ok()) return d.status();
    out.push_back(std::move(*d));
  }
  return out;
}

Result<DocumentInfo> ReadDocument(const Res& r, int i) {
  auto kind = ParseDocumentKind(r.Bytes(i, 2));
  if (!kind.ok()) return kind.status();
  DocumentInfo d{r.Bytes(i, 0), r.Bytes(i, 1), *kind,       r.Bytes(i, 3),
                 r.Bytes(i, 4), r.Int(i, 5),   r.Int(i, 6), std::nullopt};
  if (!r.IsNull(i, 7)) d.deleted_ms = r.Int(i, 7);
  return d;
}

Status NotFound(std::string_view what) {
  return Status::NotFound(std::string(what) + " not found");
}

// Runs `body` between begin and commit on one leased connection, and
// rolls back when it fails.
Status InTransaction(pg::Pool& pool,
                     const std::function<Status(pg::Conn&)>& body) {
  auto c = pool.Acquire();
  if (!c.ok()) return c.status();
  auto b = c->Exec("begin");
  if (!b.ok()) return b.status();
  if (Status s = body(*c); !s.ok()) {
    (void)c->Exec("rollback");
    return s;
  }
  return c->Exec("commit").status();
}

}  // namespace

Result<Res> PgMetadata::Run(const char* name, const Params& params) {
  auto c = pool_->Acquire();
  if (!c.ok()) return c.status();
  return c->Exec(name, params);
}

Status PgMetadata::RunOne(const char* name, const Params& params,
                          std::string_view what) {
  auto r = Run(name, params);
  if (!r.ok()) return r.status();
  if (Affected(*r) == 0) return NotFound(what);
  return Status::Ok();
}

Status PgMetadata::CreateUser(const User& u) {
  return Run("m_create_user", Params()
                                  .Text(u.id)
                                  .Text(u.email)
                                  .Text(u.display_name)
                                  .Text(u.password_hash)
                                  .Int(u.created_ms)
                                  .Int(u.token_version))
      .status();
}

Result<User> PgMetadata::GetUser(std::string_view id) {
  auto r = Run("m_get_user", Params().Text(id));
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound("user");
  return ReadUser(*r, 0);
}

Result<User> PgMetadata::GetUserByEmail(std::string_view email) {
  auto r = Run("m_get_user_by_email", Params().Text(email));
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound("user");
  return ReadUser(*r, 0);
}

Status PgMetadata::SetPasswordHash(std::string_view user_id,
                                   std::string_view expected,
                                   std::string_view password_hash,
                                   std::int64_t token_version) {
  Status s = RunOne("m_set_password",
                    Params()
                        .Text(user_id)
                        .Text(password_hash)
                        .Text(expected)
                        .Int(token_version),
                    "user");
  if (s.code() != StatusCode::kNotFound) return s;
  auto user = GetUser(user_id);
  if (!user.ok()) return user.status();
  return Status::FailedPrecondition("the password was changed meanwhile");
}

Status PgMetadata::CreateRefreshFamily(const RefreshTokenFamily& f) {
  return Run("m_create_family", Params()
                                    .Text(f.id)
                                    .Text(f.user_id)
                                    .Text(f.token_hash)
                                    .Int(f.generation)
                                    .Int(f.created_ms)
                                    .Int(f.expires_ms)
                                    .Int(f.revoked ? 1 : 0)
                                    .Int(f.token_version)
                                    .Text(f.prev_token_hash))
      .status();
}

Result<RefreshTokenFamily> PgMetadata::GetRefreshFamily(std::string_view id) {
  auto r = Run("m_get_family", Params().Text(id));
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound("refresh family");
  return ReadFamily(*r, 0);
}

Result<RefreshTokenFamily> PgMetadata::RotateRefreshToken(
    std::string_view family_id, std::string_view presented_hash,
    std::string_view new_hash, std::int64_t expires_ms) {
  auto c = pool_->Acquire();
  if (!c.ok()) return c.status();
  auto b = c->Exec("begin");
  if (!b.ok()) return b.status();
  auto rollback = [&](Status s) {
    (void)c->Exec("rollback");
    return s;
  };
  auto r = c->Exec("m_get_family_for_update", Params().Text(family_id));
  if (!r.ok()) return rollback(r.status());
  if (r->rows() == 0) return rollback(NotFound("refresh family"));
  RefreshTokenFamily fam = ReadFamily(*r, 0);
  if (fam.revoked) {
    return rollback(Status::FailedPrecondition("refresh family revoked"));
  }
  if (fam.token_hash != presented_hash) {
    if (fam.prev_token_hash.empty() || fam.prev_token_hash != presented_hash) {
      return rollback(
          Status::PermissionDenied("not the family's current token"));
    }
    auto v = c->Exec("m_revoke_family", Params().Text(family_id));
    if (!v.ok()) return rollback(v.status());
    auto commit = c->Exec("commit");
    if (!commit.ok()) return commit.status();
    return Status::Aborted("stale refresh token presented; family revoked");
  }
  auto u = c->Exec("m_rotate_family",
                   Params().Text(family_id).Text(new_hash).Int(expires_ms));
  if (!u.ok()) return rollback(u.status());
  auto commit = c->Exec("commit");
  if (!commit.ok()) return commit.status();
  fam.prev_token_hash = fam.token_hash;
  fam.token_hash = new_hash;
  fam.generation += 1;
  fam.expires_ms = expires_ms;
  return fam;
}

Status PgMetadata::RevokeRefreshFamily(std::string_view id) {
  return RunOne("m_revoke_family", Params().Text(id), "refresh family");
}

Status PgMetadata::RevokeUserRefreshFamilies(std::string_view user_id) {
  return Run("m_revoke_user_families", Params().Text(user_id)).status();
}

Status PgMetadata::CreateWorkspace(const Workspace& w) {
  return Run("m_create_workspace", Params()
                                       .Text(w.id)
                                       .Text(w.slug)
                                       .Text(w.name)
                                       .Text(w.owner_id)
                                       .Int(w.created_ms))
      .status();
}

Result<Workspace> PgMetadata::GetWorkspace(std::string_view id) {
  auto r = Run("m_get_workspace", Params().Text(id));
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound("workspace");
  return ReadWorkspace(*r, 0);
}

Result<Workspace> PgMetadata::GetWorkspaceBySlug(std::string_view slug) {
  auto r = Run("m_get_workspace_by_slug", Params().Text(slug));
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound("workspace");
  return ReadWorkspace(*r, 0);
}

Status PgMetadata::AddMember(const Membership& m) {
  return Run("m_add_member", Params()
                                 .Text(m.workspace_id)
                                 .Text(m.user_id)
                                 .Text(RoleName(m.role))
                                 .Int(m.created_ms))
      .status();
}

Result<Membership> PgMetadata::GetMembership(std::string_view workspace_id,
                                             std::string_view user_id) {
  auto r = Run("m_get_member", Params().Text(workspace_id).Text(user_id));
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound("membership");
  return ReadMembership(*r, 0);
}

Status PgMetadata::SetMemberRole(std::string_view workspace_id,
                                 std::string_view user_id, Role role) {
  return RunOne("m_set_role",
                Params().Text(workspace_id).Text(user_id).Text(RoleName(role)),
                "membership");
}

Status PgMetadata::RemoveMember(std::string_view workspace_id,
                                std::string_view user_id) {
  return RunOne("m_remove_member", Params().Text(workspace_id).Text(user_id),
                "membership");
}

Result<std::vector<Membership>> PgMetadata::ListMembers(
    std::string_view workspace_id) {
  auto r = Run("m_list_members", Params().Text(workspace_id));
  if (!r.ok()) return r.status();
  std::vector<Membership> out;
  for (int i = 0; i < r->rows(); ++i) {
    auto m = ReadMembership(*r, i);
    if (!m.ok()) return m.status();
    out.push_back(std::move(*m));
  }
  return out;
}

Status PgMetadata::CreateInvitation(const Invitation& i) {
  return Run("m_create_invitation", Params()
                                        .Text(i.id)
                                        .Text(i.workspace_id)
                                        .Text(i.email)
                                        .Text(RoleName(i.role))
                                        .Text(i.token_hash)
                                        .Text(i.inviter_id)
                                        .Int(i.created_ms)
                                        .Int(i.expires_ms))
      .status();
}

Result<Invitation> PgMetadata::GetInvitationByToken(
    std::string_view token_hash) {
  auto r = Run("m_get_invitation", Params().Text(token_hash));
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound("invitation");
  return ReadInvitation(*r, 0);
}

Status PgMetadata::AcceptInvitation(std::string_view token_hash,
                                    std::string_view user_id,
                                    std::int64_t now_ms) {
  return InTransaction(*pool_, [&](pg::Conn& c) -> Status {
    auto r = c.Exec("m_get_invitation_for_update", Params().Text(token_hash));
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return NotFound("invitation");
    auto inv = ReadInvitation(*r, 0);
    if (!inv.ok()) return inv.status();
    if (inv->accepted_ms) {
      return Status::FailedPrecondition("invitation already accepted");
    }
    if (inv->expires_ms <= now_ms) {
      return Status::FailedPrecondition("invitation expired");
    }
    auto m = c.Exec("m_add_member", Params()
                                        .Text(inv->workspace_id)
                                        .Text(user_id)
                                        .Text(RoleName(inv->role))
                                        .Int(now_ms));
    if (!m.ok()) return m.status();
    auto a = c.Exec("m_accept_invitation", Params().Text(inv->id).Int(now_ms));
    return a.status();
  });
}

Status PgMetadata::CreateDocument(const DocumentInfo& d) {
  Params p;
  p.Text(d.id)
      .Text(d.workspace_id)
      .Text(DocumentKindName(d.kind))
      .Text(d.title)
      .Text(d.created_by)
      .Int(d.created_ms)
      .Int(d.updated_ms);
  if (d.deleted_ms) {
    p.Int(*d.deleted_ms);
  } else {
    p.Null();
  }
  return Run("m_create_document", p).status();
}

Result<DocumentInfo> PgMetadata::GetDocument(std::string_view id) {
  auto r = Run("m_get_document", Params().Text(id));
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound("document");
  return ReadDocument(*r, 0);
}

Result<std::vector<DocumentInfo>> PgMetadata::ListDocuments(
    std::string_view workspace_id, bool include_deleted) {
  return ReadDocuments(
      Run("m_list_documents",
          Params().Text(workspace_id).Int(include_deleted ? 1 : 0)));
}

Result<std::vector<DocumentInfo>> PgMetadata::ListDeletedBefore(
    std::int64_t before_ms, std::size_t limit) {
  return ReadDocuments(
      Run("m_list_deleted_before",
          Params().Int(before_ms).Int(static_cast<std::int64_t>(limit))));
}

Status PgMetadata::PurgeDocument(std::string_view id) {
  return RunOne("m_purge_document", Params().Text(id), "deleted document");
}

Status PgMetadata::RenameDocument(std::string_view id, std::string_view title,
                                  std::int64_t now_ms) {
  return RunOne("m_rename_document", Params().Text(id).Text(title).Int(now_ms),
                "document");
}

Status PgMetadata::SoftDeleteDocument(std::string_view id,
                                      std::int64_t now_ms) {
  return RunOne("m_delete_document", Params().Text(id).Int(now_ms), "document");
}

Status PgMetadata::RestoreDocument(std::string_view id, std::int64_t now_ms) {
  return RunOne("m_restore_document", Params().Text(id).Int(now_ms),
                "document");
}

Result<std::int64_t> PgMetadata::RecordActivity(const Activity& a) {
  Params p;
  p.Text(a.workspace_id);
  if (a.document_id) {
    p.Text(*a.document_id);
  } else {
    p.Null();
  }
  p.Text(a.user_id).Text(a.kind).Text(a.detail).Int(a.created_ms);
  auto r = Run("m_record_activity", p);
  if (!r.ok()) return r.status();
  return r->Int(0, 0);
}

Result<std::vector<Activity>> PgMetadata::ListActivity(
    std::string_view workspace_id, std::int64_t before_id, std::size_t limit) {
  auto r = Run("m_list_activity", Params()
                                      .Text(workspace_id)
                                      .Int(before_id)
                                      .Int(static_cast<std::int64_t>(limit)));
  if (!r.ok()) return r.status();
  std::vector<Activity> out;
  for (int i = 0; i < r->rows(); ++i) {
    Activity a{r->Int(i, 0),   r->Bytes(i, 1), std::nullopt, r->Bytes(i, 3),
               r->Bytes(i, 4), r->Bytes(i, 5), r->Int(i, 6)};
    if (!r->IsNull(i, 2)) a.document_id = r->Bytes(i, 2);
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::int64_t> PgMetadata::RecordAccessChange(std::string_view user_id,
                                                    std::int64_t at_ms) {
  std::int64_t id = 0;
  WEFT_RETURN_IF_ERROR(InTransaction(*pool_, [&](pg::Conn& c) -> Status {
    auto lock = c.Exec("m_lock_access_changes");
    if (!lock.ok()) return lock.status();
    auto r =
        c.Exec("m_record_access_change", Params().Text(user_id).Int(at_ms));
    if (!r.ok()) return r.status();
    id = r->Int(0, 0);
    return Status::Ok();
  }));
  return id;
}

Result<std::vector<AccessChange>> PgMetadata::ListAccessChangesAfter(
    std::int64_t after_id, std::size_t limit) {
  auto r = Run("m_list_access_changes",
               Params().Int(after_id).Int(static_cast<std::int64_t>(limit)));
  if (!r.ok()) return r.status();
  std::vector<AccessChange> out;
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back(AccessChange{r->Int(i, 0), r->Bytes(i, 1), r->Int(i, 2)});
  }
  return out;
}

Result<std::int64_t> PgMetadata::LastAccessChangeId() {
  // Under the writers' lock: an id a writer took but has not committed
  // yet would otherwise count as read, and its entry would never be.
  std::int64_t id = 0;
  WEFT_RETURN_IF_ERROR(InTransaction(*pool_, [&](pg::Conn& c) -> Status {
    auto lock = c.Exec("m_lock_access_changes");
    if (!lock.ok()) return lock.status();
    auto r = c.Exec("m_last_access_change");
    if (!r.ok()) return r.status();
    id = r->Int(0, 0);
    return Status::Ok();
  }));
  return id;
}

Result<std::int64_t> PgMetadata::PruneAccessChanges(std::int64_t cutoff_ms) {
  auto r = Run("m_prune_access_changes", Params().Int(cutoff_ms));
  if (!r.ok()) return r.status();
  return Affected(*r);
}

Status PgMetadata::PutIdempotencyRecord(const IdempotencyRecord& rec) {
  return Run("m_put_idempotency", Params()
                                      .Text(rec.user_id)
                                      .Text(rec.key)
                                      .Text(rec.request_hash)
                                      .Int(rec.status_code)
                                      .Bytes(rec.response_body)
                                      .Int(rec.created_ms))
      .status();
}

Result<IdempotencyRecord> PgMetadata::GetIdempotencyRecord(
    std::string_view user_id, std::string_view key) {
  auto r = Run("m_get_idempotency", Params().Text(user_id).Text(key));
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound("idempotency key");
  return IdempotencyRecord{r->Bytes(0, 0), r->Bytes(0, 1),
                           r->Bytes(0, 2), static_cast<int>(r->Int(0, 3)),
                           r->Bytes(0, 4), r->Int(0, 5)};
}

Status PgMetadata::FinishIdempotencyRecord(std::string_view user_id,
                                           std::string_view key,
                                           int status_code,
                                           std::string_view response_body) {
  return RunOne(
      "m_finish_idempotency",
      Params().Text(user_id).Text(key).Int(status_code).Bytes(response_body),
      "pending idempotency key");
}

Status PgMetadata::ReleaseIdempotencyReservation(std::string_view user_id,
                                                 std::string_view key,
                                                 std::int64_t created_ms) {
  return RunOne("m_release_idempotency",
                Params().Text(user_id).Text(key).Int(created_ms),
                "idempotency reservation");
}

Result<std::int64_t> PgMetadata::ExpireIdempotencyRecords(
    std::int64_t cutoff_ms) {
  auto r = Run("m_expire_idempotency", Params().Int(cutoff_ms));
  if (!r.ok()) return r.status();
  return Affected(*r);
}

Status PgMetadata::SetDisplayName(std::string_view user_id,
                                  std::string_view display_name) {
  return RunOne("m_set_display_name", Params().Text(user_id).Text(display_name),
                "user");
}

Status PgMetadata::RenameWorkspace(std::string_view id, std::string_view name) {
  return RunOne("m_rename_workspace", Params().Text(id).Text(name),
                "workspace");
}

Status PgMetadata::DeleteWorkspace(std::string_view id) {
  return RunOne("m_delete_workspace", Params().Text(id), "workspace");
}

Result<std::vector<Membership>> PgMetadata::ListUserMemberships(
    std::string_view user_id) {
  auto r = Run("m_list_user_memberships", Params().Text(user_id));
  if (!r.ok()) return r.status();
  std::vector<Membership> out;
  for (int i = 0; i < r->rows(); ++i) {
    auto m = ReadMembership(*r, i);
    if (!m.ok()) return m.status();
    out.push_back(std::move(*m));
  }
  return out;
}

Result<std::vector<Invitation>> PgMetadata::ListInvitations(
    std::string_view workspace_id) {
  auto r = Run("m_list_invitations", Params().Text(workspace_id));
  if (!r.ok()) return r.status();
  std::vector<Invitation> out;
  for (int i = 0; i < r->rows(); ++i) {
    auto inv = ReadInvitation(*r, i);
    if (!inv.ok()) return inv.status();
    out.push_back(std::move(*inv));
  }
  return out;
}

Status PgMetadata::DeleteInvitation(std::string_view workspace_id,
                                    std::string_view id) {
  return RunOne("m_delete_invitation", Params().Text(workspace_id).Text(id),
                "invitation");
}

}  // namespace weft::store
