#include "store/sqlite_metadata.h"

#include "store/sqlite_util.h"

namespace weft::store {

using sqlite::Stmt;
using sqlite::Use;

const char* const kSqliteMetadataSchema = R"sql(
CREATE TABLE users (
  id            TEXT    PRIMARY KEY,
  email         TEXT    NOT NULL UNIQUE,
  display_name  TEXT    NOT NULL,
  password_hash TEXT    NOT NULL,
  created_ms    INTEGER NOT NULL
);
CREATE TABLE refresh_token_families (
  id         TEXT    PRIMARY KEY,
  user_id    TEXT    NOT NULL REFERENCES users (id),
  token_hash TEXT    NOT NULL UNIQUE,
  generation INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
);
CREATE INDEX refresh_token_families_user ON refresh_token_families (user_id);
CREATE TABLE workspaces (
  id         TEXT    PRIMARY KEY,
  slug       TEXT    NOT NULL UNIQUE,
  name       TEXT    NOT NULL,
  owner_id   TEXT    NOT NULL REFERENCES users (id),
  created_ms INTEGER NOT NULL
);
CREATE TABLE memberships (
  workspace_id TEXT    NOT NULL REFERENCES workspaces (id),
  user_id      TEXT    NOT NULL REFERENCES users (id),
  role         TEXT    NOT NULL
               CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
  created_ms   INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);
CREATE TABLE invitations (
  id           TEXT    PRIMARY KEY,
  workspace_id TEXT    NOT NULL REFERENCES workspaces (id),
  email        TEXT    NOT NULL,
  role         TEXT    NOT NULL
               CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
  token_hash   TEXT    NOT NULL UNIQUE,
  inviter_id   TEXT    NOT NULL REFERENCES users (id),
  created_ms   INTEGER NOT NULL,
  expires_ms   INTEGER NOT NULL,
  accepted_ms  INTEGER,
  UNIQUE (workspace_id, email)
);
CREATE TABLE documents (
  id           TEXT    PRIMARY KEY,
  workspace_id TEXT    NOT NULL REFERENCES workspaces (id),
  kind         TEXT    NOT NULL CHECK (kind IN ('text', 'board', 'canvas')),
  title        TEXT    NOT NULL,
  created_by   TEXT    NOT NULL REFERENCES users (id),
  created_ms   INTEGER NOT NULL,
  updated_ms   INTEGER NOT NULL,
  deleted_ms   INTEGER
);
CREATE INDEX documents_workspace ON documents (workspace_id, id);
CREATE TABLE activity (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id TEXT    NOT NULL,
  document_id  TEXT,
  user_id      TEXT    NOT NULL,
  kind         TEXT    NOT NULL,
  detail       TEXT    NOT NULL,
  created_ms   INTEGER NOT NULL
);
CREATE INDEX activity_workspace ON activity (workspace_id, id);
CREATE TABLE idempotency_keys (
  user_id       TEXT    NOT NULL,
  idem_key      TEXT    NOT NULL,
  request_hash  TEXT    NOT NULL,
  status_code   INTEGER NOT NULL,
  response_body BLOB    NOT NULL,
  created_ms    INTEGER NOT NULL,
  PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_ms);
)sql";

namespace {

constexpr const char* kUserCols =
    "id, email, display_name, password_hash, created_ms, token_version";
constexpr const char* kFamilyCols =
    "id, user_id, token_hash, generation, created_ms, expires_ms, revoked, "
    "token_version, prev_token_hash";

User ReadUser(Use& u) {
  return {u.ColText(0), u.ColText(1), u.ColText(2),
          u.ColText(3), u.ColInt(4),  u.ColInt(5)};
}
RefreshTokenFamily ReadFamily(Use& u) {
  return {u.ColText(0),     u.ColText(1), u.ColText(2),
          u.ColInt(3),      u.ColInt(4),  u.ColInt(5),
          u.ColInt(6) != 0, u.ColInt(7),  u.ColText(8)};
}
Workspace ReadWorkspace(Use& u) {
  return {u.ColText(0), u.ColText(1), u.ColText(2), u.ColText(3), u.ColInt(4)};
}
Result<Membership> ReadMembership(Use& u) {
  auto role = ParseRole(u.ColText(2));
  if (!role.ok()) return role.status();
  return Membership{u.ColText(0), u.ColText(1), *role, u.ColInt(3)};
}
Result<Invitation> ReadInvitation(Use& u) {
  auto role = ParseRole(u.ColText(3));
  if (!role.ok()) return role.status();
  Invitation i{u.ColText(0), u.ColText(1), u.ColText(2),
               *role,        u.ColText(4), u.ColText(5),
               u.ColInt(6),  u.ColInt(7),  std::nullopt};
  if (!u.ColNull(8)) i.accepted_ms = u.ColInt(8);
  return i;
}
Result<DocumentInfo> ReadDocument(Use& u);

// Every row `u` (a documents SELECT) gives.
Result<std::vector<DocumentInfo>> ReadDocuments(Use& u) {
  std::vector<DocumentInfo> out;
  for (;;) {
    auto row = u.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    auto d = ReadDocument(u);
    if (!d.ok()) return d.status();
    out.push_back(std::move(*d));
  }
}

Result<DocumentInfo> ReadDocument(Use& u) {
  auto kind = ParseDocumentKind(u.ColText(2));
  if (!kind.ok()) return kind.status();
  DocumentInfo d{u.ColText(0), u.ColText(1), *kind,       u.ColText(3),
                 u.ColText(4), u.ColInt(5),  u.ColInt(6), std::nullopt};
  if (!u.ColNull(7)) d.deleted_ms = u.ColInt(7);
  return d;
}

// Steps once; kNotFound (naming `what`) when there is no row.
Status Row(Use& u, std::string_view what) {
  auto row = u.Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound(std::string(what) + " not found");
  return Status::Ok();
}

}  // namespace

SqliteMetadata::SqliteMetadata(sqlite3* db, std::mutex* mu)
    : db_(db), mu_(mu) {}

SqliteMetadata::~SqliteMetadata() = default;

Result<Stmt*> SqliteMetadata::Prep(const char* sql) {
  auto& s = stmts_[sql];
  if (!s) {
    auto fresh = std::make_unique<Stmt>();
    WEFT_RETURN_IF_ERROR(fresh->Prepare(db_, sql));
    s = std::move(fresh);
  }
  return s.get();
}

Status SqliteMetadata::Write(const char* sql,
                             const std::function<void(Use&)>& bind,
                             bool must_change, std::string_view what) {
  auto st = Prep(sql);
  if (!st.ok()) return st.status();
  Use u(**st);
  bind(u);
  WEFT_RETURN_IF_ERROR(u.Run());
  if (must_change && sqlite3_changes(db_) == 0) {
    return Status::NotFound(std::string(what) + " not found");
  }
  return Status::Ok();
}

Status SqliteMetadata::CreateUser(const User& user) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "INSERT INTO users (id, email, display_name, password_hash, created_ms, "
      "token_version) VALUES (?, ?, ?, ?, ?, ?)",
      [&](Use& u) {
        u.Text(1, user.id)
            .Text(2, user.email)
            .Text(3, user.display_name)
            .Text(4, user.password_hash)
            .Int(5, user.created_ms)
            .Int(6, user.token_version);
      },
      false, "user");
}

Result<User> SqliteMetadata::GetUser(std::string_view id) {
  std::lock_guard<std::mutex> lock(*mu_);
  static const std::string sql =
      std::string("SELECT ") + kUserCols + " FROM users WHERE id = ?";
  auto st = Prep(sql.c_str());
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, id);
  WEFT_RETURN_IF_ERROR(Row(u, "user"));
  return ReadUser(u);
}

Result<User> SqliteMetadata::GetUserByEmail(std::string_view email) {
  std::lock_guard<std::mutex> lock(*mu_);
  static const std::string sql =
      std::string("SELECT ") + kUserCols + " FROM users WHERE email = ?";
  auto st = Prep(sql.c_str());
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, email);
  WEFT_RETURN_IF_ERROR(Row(u, "user"));
  return ReadUser(u);
}

Status SqliteMetadata::SetPasswordHash(std::string_view user_id,
                                       std::string_view expected,
                                       std::string_view password_hash,
                                       std::int64_t token_version) {
  std::lock_guard<std::mutex> lock(*mu_);
  Status s = Write(
      "UPDATE users SET password_hash = ?, token_version = ? WHERE id = ? "
      "AND password_hash = ?",
      [&](Use& u) {
        u.Text(1, password_hash)
            .Int(2, token_version)
            .Text(3, user_id)
            .Text(4, expected);
      },
      true, "user");
  if (s.code() != StatusCode::kNotFound) return s;
  auto st = Prep("SELECT 1 FROM users WHERE id = ?");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, user_id);
  WEFT_RETURN_IF_ERROR(Row(u, "user"));
  return Status::FailedPrecondition("the password was changed meanwhile");
}

Status SqliteMetadata::CreateRefreshFamily(const RefreshTokenFamily& f) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "INSERT INTO refresh_token_families (id, user_id, token_hash, "
      "generation, created_ms, expires_ms, revoked, token_version, "
      "prev_token_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [&](Use& u) {
        u.Text(1, f.id)
            .Text(2, f.user_id)
            .Text(3, f.token_hash)
            .Int(4, f.generation)
            .Int(5, f.created_ms)
            .Int(6, f.expires_ms)
            .Int(7, f.revoked ? 1 : 0)
            .Int(8, f.token_version)
            .Text(9, f.prev_token_hash);
      },
      false, "refresh family");
}

Result<RefreshTokenFamily> SqliteMetadata::GetRefreshFamily(
    std::string_view id) {
  std::lock_guard<std::mutex> lock(*mu_);
  static const std::string sql = std::string("SELECT ") + kFamilyCols +
                                 " FROM refresh_token_families WHERE id = ?";
  auto st = Prep(sql.c_str());
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, id);
  WEFT_RETURN_IF_ERROR(Row(u, "refresh family"));
  return ReadFamily(u);
}

Result<RefreshTokenFamily> SqliteMetadata::RotateRefreshToken(
    std::string_view family_id, std::string_view presented_hash,
    std::string_view new_hash, std::int64_t expires_ms) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto begin = Prep("BEGIN IMMEDIATE");
  if (!begin.ok()) return begin.status();
  {
    Use b(**begin);
    WEFT_RETURN_IF_ERROR(b.Run());
  }
  auto finish = [&](bool commit) -> Status {
    auto st = Prep(commit ? "COMMIT" : "ROLLBACK");
    if (!st.ok()) return st.status();
    Use e(**st);
    return e.Run();
  };
  static const std::string sql = std::string("SELECT ") + kFamilyCols +
                                 " FROM refresh_token_families WHERE id = ?";
  RefreshTokenFamily fam;
  {
    auto st = Prep(sql.c_str());
    if (!st.ok()) {
      (void)finish(false);
      return st.status();
    }
    Use u(**st);
    u.Text(1, family_id);
    Status s = Row(u, "refresh family");
    if (!s.ok()) {
      (void)finish(false);
      return s;
    }
    fam = ReadFamily(u);
  }
  if (fam.revoked) {
    (void)finish(false);
    return Status::FailedPrecondition("refresh family revoked");
  }
  if (fam.token_hash != presented_hash) {
    if (fam.prev_token_hash.empty() || fam.prev_token_hash != presented_hash) {
      (void)finish(false);
      return Status::PermissionDenied("not the family's current token");
    }
    Status s = Write(
        "UPDATE refresh_token_families SET revoked = 1 WHERE id = ?",
        [&](Use& u) { u.Text(1, family_id); }, true, "refresh family");
    if (!s.ok()) {
      (void)finish(false);
      return s;
    }
    WEFT_RETURN_IF_ERROR(finish(true));
    return Status::Aborted("stale refresh token presented; family revoked");
  }
  Status s = Write(
      "UPDATE refresh_token_families SET prev_token_hash = token_hash, "
      "token_hash = ?, generation = generation + 1, expires_ms = ? WHERE id "
      "= ?",
      [&](Use& u) {
        u.Text(1, new_hash).Int(2, expires_ms).Text(3, family_id);
      },
      true, "refresh family");
  if (!s.ok()) {
    (void)finish(false);
    return s;
  }
  WEFT_RETURN_IF_ERROR(finish(true));
  fam.prev_token_hash = fam.token_hash;
  fam.token_hash = new_hash;
  fam.generation += 1;
  fam.expires_ms = expires_ms;
  return fam;
}

Status SqliteMetadata::RevokeRefreshFamily(std::string_view id) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "UPDATE refresh_token_families SET revoked = 1 WHERE id = ?",
      [&](Use& u) { u.Text(1, id); }, true, "refresh family");
}

Status SqliteMetadata::RevokeUserRefreshFamilies(std::string_view user_id) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "UPDATE refresh_token_families SET revoked = 1 WHERE user_id = ?",
      [&](Use& u) { u.Text(1, user_id); }, false, "user");
}

Status SqliteMetadata::CreateWorkspace(const Workspace& w) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "INSERT INTO workspaces (id, slug, name, owner_id, created_ms) VALUES "
      "(?, ?, ?, ?, ?)",
      [&](Use& u) {
        u.Text(1, w.id)
            .Text(2, w.slug)
            .Text(3, w.name)
            .Text(4, w.owner_id)
            .Int(5, w.created_ms);
      },
      false, "workspace");
}

Result<Workspace> SqliteMetadata::GetWorkspace(std::string_view id) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT id, slug, name, owner_id, created_ms FROM workspaces WHERE id = "
      "?");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, id);
  WEFT_RETURN_IF_ERROR(Row(u, "workspace"));
  return ReadWorkspace(u);
}

Result<Workspace> SqliteMetadata::GetWorkspaceBySlug(std::string_view slug) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT id, slug, name, owner_id, created_ms FROM workspaces WHERE slug "
      "= ?");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, slug);
  WEFT_RETURN_IF_ERROR(Row(u, "workspace"));
  return ReadWorkspace(u);
}

Status SqliteMetadata::AddMember(const Membership& m) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "INSERT INTO memberships (workspace_id, user_id, role, created_ms) "
      "VALUES (?, ?, ?, ?)",
      [&](Use& u) {
        u.Text(1, m.workspace_id)
            .Text(2, m.user_id)
            .Text(3, RoleName(m.role))
            .Int(4, m.created_ms);
      },
      false, "membership");
}

Result<Membership> SqliteMetadata::GetMembership(std::string_view workspace_id,
                                                 std::string_view user_id) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT workspace_id, user_id, role, created_ms FROM memberships WHERE "
      "workspace_id = ? AND user_id = ?");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, workspace_id).Text(2, user_id);
  WEFT_RETURN_IF_ERROR(Row(u, "membership"));
  return ReadMembership(u);
}

Status SqliteMetadata::SetMemberRole(std::string_view workspace_id,
                                     std::string_view user_id, Role role) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "UPDATE memberships SET role = ? WHERE workspace_id = ? AND user_id = ?",
      [&](Use& u) {
        u.Text(1, RoleName(role)).Text(2, workspace_id).Text(3, user_id);
      },
      true, "membership");
}

Status SqliteMetadata::RemoveMember(std::string_view workspace_id,
                                    std::string_view user_id) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?",
      [&](Use& u) { u.Text(1, workspace_id).Text(2, user_id); }, true,
      "membership");
}

Result<std::vector<Membership>> SqliteMetadata::ListMembers(
    std::string_view workspace_id) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT workspace_id, user_id, role, created_ms FROM memberships WHERE "
      "workspace_id = ? ORDER BY user_id");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, workspace_id);
  std::vector<Membership> out;
  for (;;) {
    auto row = u.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    auto m = ReadMembership(u);
    if (!m.ok()) return m.status();
    out.push_back(std::move(*m));
  }
}

Status SqliteMetadata::CreateInvitation(const Invitation& i) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "INSERT INTO invitations (id, workspace_id, email, role, token_hash, "
      "inviter_id, created_ms, expires_ms, accepted_ms) VALUES (?, ?, ?, ?, ?, "
      "?, ?, ?, NULL)",
      [&](Use& u) {
        u.Text(1, i.id)
            .Text(2, i.workspace_id)
            .Text(3, i.email)
            .Text(4, RoleName(i.role))
            .Text(5, i.token_hash)
            .Text(6, i.inviter_id)
            .Int(7, i.created_ms)
            .Int(8, i.expires_ms);
      },
      false, "invitation");
}

Result<Invitation> SqliteMetadata::GetInvitationByToken(
    std::string_view token_hash) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT id, workspace_id, email, role, token_hash, inviter_id, "
      "created_ms, expires_ms, accepted_ms FROM invitations WHERE token_hash = "
      "?");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, token_hash);
  WEFT_RETURN_IF_ERROR(Row(u, "invitation"));
  return ReadInvitation(u);
}

Status SqliteMetadata::AcceptInvitation(std::string_view token_hash,
                                        std::string_view user_id,
                                        std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto run = [&](const char* sql) -> Status {
    auto st = Prep(sql);
    if (!st.ok()) return st.status();
    Use u(**st);
    return u.Run();
  };
  WEFT_RETURN_IF_ERROR(run("BEGIN IMMEDIATE"));
  Status s = [&]() -> Status {
    auto st = Prep(
        "SELECT id, workspace_id, email, role, token_hash, inviter_id, "
        "created_ms, expires_ms, accepted_ms FROM invitations WHERE "
        "token_hash = ?");
    if (!st.ok()) return st.status();
    Invitation inv;
    {
      Use u(**st);
      u.Text(1, token_hash);
      WEFT_RETURN_IF_ERROR(Row(u, "invitation"));
      auto i = ReadInvitation(u);
      if (!i.ok()) return i.status();
      inv = std::move(*i);
    }
    if (inv.accepted_ms) {
      return Status::FailedPrecondition("invitation already accepted");
    }
    if (inv.expires_ms <= now_ms) {
      return Status::FailedPrecondition("invitation expired");
    }
    WEFT_RETURN_IF_ERROR(Write(
        "INSERT INTO memberships (workspace_id, user_id, role, created_ms) "
        "VALUES (?, ?, ?, ?)",
        [&](Use& u) {
          u.Text(1, inv.workspace_id)
              .Text(2, user_id)
              .Text(3, RoleName(inv.role))
              .Int(4, now_ms);
        },
        false, "membership"));
    return Write(
        "UPDATE invitations SET accepted_ms = ? WHERE id = ?",
        [&](Use& u) { u.Int(1, now_ms).Text(2, inv.id); }, true, "invitation");
  }();
  if (!s.ok()) {
    (void)run("ROLLBACK");
    return s;
  }
  return run("COMMIT");
}

Status SqliteMetadata::CreateDocument(const DocumentInfo& d) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "INSERT INTO documents (id, workspace_id, kind, title, created_by, "
      "created_ms, updated_ms, deleted_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      [&](Use& u) {
        u.Text(1, d.id)
            .Text(2, d.workspace_id)
            .Text(3, DocumentKindName(d.kind))
            .Text(4, d.title)
            .Text(5, d.created_by)
            .Int(6, d.created_ms)
            .Int(7, d.updated_ms);
        if (d.deleted_ms) u.Int(8, *d.deleted_ms);
      },
      false, "document");
}

Result<DocumentInfo> SqliteMetadata::GetDocument(std::string_view id) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT id, workspace_id, kind, title, created_by, created_ms, "
      "updated_ms, deleted_ms FROM documents WHERE id = ?");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, id);
  WEFT_RETURN_IF_ERROR(Row(u, "document"));
  return ReadDocument(u);
}

Result<std::vector<DocumentInfo>> SqliteMetadata::ListDocuments(
    std::string_view workspace_id, bool include_deleted) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT id, workspace_id, kind, title, created_by, created_ms, "
      "updated_ms, deleted_ms FROM documents WHERE workspace_id = ? AND (? OR "
      "deleted_ms IS NULL) ORDER BY id");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, workspace_id).Int(2, include_deleted ? 1 : 0);
  return ReadDocuments(u);
}

Status SqliteMetadata::RenameDocument(std::string_view id,
                                      std::string_view title,
                                      std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "UPDATE documents SET title = ?, updated_ms = ? WHERE id = ?",
      [&](Use& u) { u.Text(1, title).Int(2, now_ms).Text(3, id); }, true,
      "document");
}

Status SqliteMetadata::SoftDeleteDocument(std::string_view id,
                                          std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "UPDATE documents SET deleted_ms = ?, updated_ms = ? WHERE id = ?",
      [&](Use& u) { u.Int(1, now_ms).Int(2, now_ms).Text(3, id); }, true,
      "document");
}

Result<std::vector<DocumentInfo>> SqliteMetadata::ListDeletedBefore(
    std::int64_t before_ms, std::size_t limit) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT id, workspace_id, kind, title, created_by, created_ms, "
      "updated_ms, deleted_ms FROM documents WHERE deleted_ms < ? ORDER BY "
      "deleted_ms LIMIT ?");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Int(1, before_ms).Int(2, static_cast<std::int64_t>(limit));
  return ReadDocuments(u);
}

Status SqliteMetadata::PurgeDocument(std::string_view id) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "DELETE FROM documents WHERE id = ? AND deleted_ms IS NOT NULL",
      [&](Use& u) { u.Text(1, id); }, true, "deleted document");
}

Status SqliteMetadata::RestoreDocument(std::string_view id,
                                       std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "UPDATE documents SET deleted_ms = NULL, updated_ms = ? WHERE id = ?",
      [&](Use& u) { u.Int(1, now_ms).Text(2, id); }, true, "document");
}

Result<std::int64_t> SqliteMetadata::RecordActivity(const Activity& a) {
  std::lock_guard<std::mutex> lock(*mu_);
  WEFT_RETURN_IF_ERROR(Write(
      "INSERT INTO activity (workspace_id, document_id, user_id, kind, detail, "
      "created_ms) VALUES (?, ?, ?, ?, ?, ?)",
      [&](Use& u) {
        u.Text(1, a.workspace_id);
        if (a.document_id) u.Text(2, *a.document_id);
        u.Text(3, a.user_id)
            .Text(4, a.kind)
            .Text(5, a.detail)
            .Int(6, a.created_ms);
      },
      false, "activity"));
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
}

Result<std::vector<Activity>> SqliteMetadata::ListActivity(
    std::string_view workspace_id, std::int64_t before_id, std::size_t limit) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT id, workspace_id, document_id, user_id, kind, detail, "
      "created_ms FROM activity WHERE workspace_id = ? AND (? = 0 OR id < ?) "
      "ORDER BY id DESC LIMIT ?");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, workspace_id)
      .Int(2, before_id)
      .Int(3, before_id)
      .Int(4, static_cast<std::int64_t>(limit));
  std::vector<Activity> out;
  for (;;) {
    auto row = u.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    Activity a{u.ColInt(0),  u.ColText(1), std::nullopt, u.ColText(3),
               u.ColText(4), u.ColText(5), u.ColInt(6)};
    if (!u.ColNull(2)) a.document_id = u.ColText(2);
    out.push_back(std::move(a));
  }
}

Result<std::int64_t> SqliteMetadata::RecordAccessChange(
    std::string_view user_id, std::int64_t at_ms) {
  std::lock_guard<std::mutex> lock(*mu_);
  WEFT_RETURN_IF_ERROR(Write(
      "INSERT INTO access_changes (user_id, at_ms) VALUES (?, ?)",
      [&](Use& u) { u.Text(1, user_id).Int(2, at_ms); }, false,
      "access change"));
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
}

Result<std::vector<AccessChange>> SqliteMetadata::ListAccessChangesAfter(
    std::int64_t after_id, std::size_t limit) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT id, user_id, at_ms FROM access_changes WHERE id > ? "
      "ORDER BY id LIMIT ?");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Int(1, after_id).Int(2, static_cast<std::int64_t>(limit));
  std::vector<AccessChange> out;
  for (;;) {
    auto row = u.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(AccessChange{u.ColInt(0), u.ColText(1), u.ColInt(2)});
  }
}

Result<std::int64_t> SqliteMetadata::LastAccessChangeId() {
  std::lock_guard<std::mutex> lock(*mu_);
  // AUTOINCREMENT keeps the largest id ever used in sqlite_sequence, also
  // after its row is pruned.
  auto st = Prep(
      "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = "
      "'access_changes'), 0)");
  if (!st.ok()) return st.status();
  Use u(**st);
  WEFT_RETURN_IF_ERROR(Row(u, "access change"));
  return u.ColInt(0);
}

Result<std::int64_t> SqliteMetadata::PruneAccessChanges(
    std::int64_t cutoff_ms) {
  std::lock_guard<std::mutex> lock(*mu_);
  WEFT_RETURN_IF_ERROR(Write(
      "DELETE FROM access_changes WHERE at_ms < ?",
      [&](Use& u) { u.Int(1, cutoff_ms); }, false, "access change"));
  return static_cast<std::int64_t>(sqlite3_changes(db_));
}

Status SqliteMetadata::PutIdempotencyRecord(const IdempotencyRecord& r) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, "
      "status_code, response_body, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
      [&](Use& u) {
        u.Text(1, r.user_id)
            .Text(2, r.key)
            .Text(3, r.request_hash)
            .Int(4, r.status_code)
            .Blob(5, r.response_body)
            .Int(6, r.created_ms);
      },
      false, "idempotency key");
}

Result<IdempotencyRecord> SqliteMetadata::GetIdempotencyRecord(
    std::string_view user_id, std::string_view key) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT user_id, idem_key, request_hash, status_code, response_body, "
      "created_ms FROM idempotency_keys WHERE user_id = ? AND idem_key = ?");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, user_id).Text(2, key);
  WEFT_RETURN_IF_ERROR(Row(u, "idempotency key"));
  return IdempotencyRecord{u.ColText(0), u.ColText(1),
                           u.ColText(2), static_cast<int>(u.ColInt(3)),
                           u.ColText(4), u.ColInt(5)};
}

Status SqliteMetadata::FinishIdempotencyRecord(std::string_view user_id,
                                               std::string_view key,
                                               int status_code,
                                               std::string_view response_body) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "UPDATE idempotency_keys SET status_code = ?, response_body = ? "
      "WHERE user_id = ? AND idem_key = ? AND status_code = 0",
      [&](Use& u) {
        u.Int(1, status_code)
            .Blob(2, response_body)
            .Text(3, user_id)
            .Text(4, key);
      },
      true, "pending idempotency key");
}

Status SqliteMetadata::ReleaseIdempotencyReservation(std::string_view user_id,
                                                     std::string_view key,
                                                     std::int64_t created_ms) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ? AND "
      "status_code = 0 AND created_ms = ?",
      [&](Use& u) { u.Text(1, user_id).Text(2, key).Int(3, created_ms); }, true,
      "idempotency reservation");
}

Result<std::int64_t> SqliteMetadata::ExpireIdempotencyRecords(
    std::int64_t cutoff_ms) {
  std::lock_guard<std::mutex> lock(*mu_);
  WEFT_RETURN_IF_ERROR(Write(
      "DELETE FROM idempotency_keys WHERE created_ms < ?",
      [&](Use& u) { u.Int(1, cutoff_ms); }, false, "idempotency key"));
  return static_cast<std::int64_t>(sqlite3_changes(db_));
}

Status SqliteMetadata::SetDisplayName(std::string_view user_id,
                                      std::string_view display_name) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "UPDATE users SET display_name = ? WHERE id = ?",
      [&](Use& u) { u.Text(1, display_name).Text(2, user_id); }, true, "user");
}

Status SqliteMetadata::RenameWorkspace(std::string_view id,
                                       std::string_view name) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "UPDATE workspaces SET name = ? WHERE id = ?",
      [&](Use& u) { u.Text(1, name).Text(2, id); }, true, "workspace");
}

Status SqliteMetadata::DeleteWorkspace(std::string_view id) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto run = [&](const char* sql) -> Status {
    auto st = Prep(sql);
    if (!st.ok()) return st.status();
    Use u(**st);
    return u.Run();
  };
  auto by_id = [&](Use& u) { u.Text(1, id); };
  WEFT_RETURN_IF_ERROR(run("BEGIN IMMEDIATE"));
  Status s = [&]() -> Status {
    WEFT_RETURN_IF_ERROR(Write("DELETE FROM memberships WHERE workspace_id = ?",
                               by_id, false, "membership"));
    WEFT_RETURN_IF_ERROR(Write("DELETE FROM invitations WHERE workspace_id = ?",
                               by_id, false, "invitation"));
    WEFT_RETURN_IF_ERROR(Write("DELETE FROM documents WHERE workspace_id = ?",
                               by_id, false, "document"));
    WEFT_RETURN_IF_ERROR(Write("DELETE FROM activity WHERE workspace_id = ?",
                               by_id, false, "activity"));
    return Write("DELETE FROM workspaces WHERE id = ?", by_id, true,
                 "workspace");
  }();
  if (!s.ok()) {
    (void)run("ROLLBACK");
    return s;
  }
  return run("COMMIT");
}

Result<std::vector<Membership>> SqliteMetadata::ListUserMemberships(
    std::string_view user_id) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT workspace_id, user_id, role, created_ms FROM memberships WHERE "
      "user_id = ? ORDER BY workspace_id");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, user_id);
  std::vector<Membership> out;
  for (;;) {
    auto row = u.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    auto m = ReadMembership(u);
    if (!m.ok()) return m.status();
    out.push_back(std::move(*m));
  }
}

Result<std::vector<Invitation>> SqliteMetadata::ListInvitations(
    std::string_view workspace_id) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto st = Prep(
      "SELECT id, workspace_id, email, role, token_hash, inviter_id, "
      "created_ms, expires_ms, accepted_ms FROM invitations WHERE "
      "workspace_id = ? ORDER BY id");
  if (!st.ok()) return st.status();
  Use u(**st);
  u.Text(1, workspace_id);
  std::vector<Invitation> out;
  for (;;) {
    auto row = u.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    auto i = ReadInvitation(u);
    if (!i.ok()) return i.status();
    out.push_back(std::move(*i));
  }
}

Status SqliteMetadata::DeleteInvitation(std::string_view workspace_id,
                                        std::string_view id) {
  std::lock_guard<std::mutex> lock(*mu_);
  return Write(
      "DELETE FROM invitations WHERE workspace_id = ? AND id = ?",
      [&](Use& u) { u.Text(1, workspace_id).Text(2, id); }, true, "invitation");
}

}  // namespace weft::store
