#pragma once

// SqliteMetadata: MetadataStore on the SqliteStore's connection (same
// single writer, same durability: every call commits with fsync before it
// returns). Unique, foreign-key and check constraints of the schema map to
// kAlreadyExists / kInvalidArgument. Thread-safe through the connection's
// mutex, which the caller provides and which outlives this object.

#include <sqlite3.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "store/metadata.h"

namespace weft::store {

namespace sqlite {
class Stmt;
class Use;
}  // namespace sqlite

// The metadata tables (migration 2 of the SQLite schema).
extern const char* const kSqliteMetadataSchema;

class SqliteMetadata final : public MetadataStore {
 public:
  SqliteMetadata(sqlite3* db, std::mutex* mu);
  ~SqliteMetadata() override;

  Status CreateUser(const User& user) override;
  Result<User> GetUser(std::string_view id) override;
  Result<User> GetUserByEmail(std::string_view email) override;
  Status SetPasswordHash(std::string_view user_id, std::string_view expected,
                         std::string_view password_hash,
                         std::int64_t token_version) override;
  Status SetDisplayName(std::string_view user_id,
                        std::string_view display_name) override;

  Status CreateRefreshFamily(const RefreshTokenFamily& family) override;
  Result<RefreshTokenFamily> GetRefreshFamily(std::string_view id) override;
  Result<RefreshTokenFamily> RotateRefreshToken(
      std::string_view family_id, std::string_view presented_hash,
      std::string_view new_hash, std::int64_t expires_ms) override;
  Status RevokeRefreshFamily(std::string_view id) override;
  Status RevokeUserRefreshFamilies(std::string_view user_id) override;

  Status CreateWorkspace(const Workspace& workspace) override;
  Result<Workspace> GetWorkspace(std::string_view id) override;
  Result<Workspace> GetWorkspaceBySlug(std::string_view slug) override;
  Status RenameWorkspace(std::string_view id, std::string_view name) override;
  Status DeleteWorkspace(std::string_view id) override;
  Status AddMember(const Membership& membership) override;
  Result<Membership> GetMembership(std::string_view workspace_id,
                                   std::string_view user_id) override;
  Status SetMemberRole(std::string_view workspace_id, std::string_view user_id,
                       Role role) override;
  Status RemoveMember(std::string_view workspace_id,
                      std::string_view user_id) override;
  Result<std::vector<Membership>> ListMembers(
      std::string_view workspace_id) override;
  Result<std::vector<Membership>> ListUserMemberships(
      std::string_view user_id) override;

  Status CreateInvitation(const Invitation& invitation) override;
  Result<Invitation> GetInvitationByToken(std::string_view token_hash) override;
  Result<std::vector<Invitation>> ListInvitations(
      std::string_view workspace_id) override;
  Status DeleteInvitation(std::string_view workspace_id,
                          std::string_view id) override;
  Status AcceptInvitation(std::string_view token_hash, std::string_view user_id,
                          std::int64_t now_ms) override;

  Status CreateDocument(const DocumentInfo& document) override;
  Result<DocumentInfo> GetDocument(std::string_view id) override;
  Result<std::vector<DocumentInfo>> ListDocuments(
      std::string_view workspace_id, bool include_deleted) override;
  Status RenameDocument(std::string_view id, std::string_view title,
                        std::int64_t now_ms) override;
  Status SoftDeleteDocument(std::string_view id, std::int64_t now_ms) override;
  Status RestoreDocument(std::string_view id, std::int64_t now_ms) override;
  Result<std::vector<DocumentInfo>> ListDeletedBefore(
      std::int64_t before_ms, std::size_t limit) override;
  Status PurgeDocument(std::string_view id) override;

  Result<std::int64_t> RecordActivity(const Activity& activity) override;
  Result<std::vector<Activity>> ListActivity(std::string_view workspace_id,
                                             std::int64_t before_id,
                                             std::size_t limit) override;

  Result<std::int64_t> RecordAccessChange(std::string_view user_id,
                                          std::int64_t at_ms) override;
  Result<std::vector<AccessChange>> ListAccessChangesAfter(
      std::int64_t after_id, std::size_t limit) override;
  Result<std::int64_t> LastAccessChangeId() override;
  Result<std::int64_t> PruneAccessChanges(std::int64_t cutoff_ms) override;
  Status PutIdempotencyRecord(const IdempotencyRecord& record) override;
  Result<IdempotencyRecord> GetIdempotencyRecord(std::string_view user_id,
                                                 std::string_view key) override;
  Status FinishIdempotencyRecord(std::string_view user_id, std::string_view key,
                                 int status_code,
                                 std::string_view response_body) override;
  Status ReleaseIdempotencyReservation(std::string_view user_id,
                                       std::string_view key,
                                       std::int64_t created_ms) override;
  Result<std::int64_t> ExpireIdempotencyRecords(
      std::int64_t cutoff_ms) override;

 private:
  // The cached prepared statement for `sql` (a string literal).
  Result<sqlite::Stmt*> Prep(const char* sql);
  // Runs a write; kNotFound if it changed no row and `must_change`.
  Status Write(const char* sql, const std::function<void(sqlite::Use&)>& bind,
               bool must_change, std::string_view what);

  sqlite3* db_;
  std::mutex* mu_;
  std::map<const char*, std::unique_ptr<sqlite::Stmt>> stmts_;  // under *mu_
};

}  // namespace weft::store
