#pragma once

// MemoryMetadata: MetadataStore in process memory, enforcing the same
// unique keys, references and checks as the SQL schemas. Thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "store/metadata.h"

namespace weft::store {

// Not final: tests interpose on single calls (a change that lands between
// two reads of a request).
class MemoryMetadata : public MetadataStore {
 public:
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
  using Key2 = std::pair<std::string, std::string>;
  std::mutex mu_;
  // All guarded by mu_.
  std::map<std::string, User, std::less<>> users_;
  std::map<std::string, RefreshTokenFamily, std::less<>> families_;
  std::map<std::string, Workspace, std::less<>> workspaces_;
  std::map<Key2, Membership> members_;
  std::map<std::string, Invitation, std::less<>> invitations_;
  std::map<std::string, DocumentInfo, std::less<>> documents_;
  std::map<std::int64_t, Activity> activity_;
  std::map<std::int64_t, AccessChange> access_changes_;
  std::int64_t last_access_change_ = 0;  // ids are never reused
  std::map<Key2, IdempotencyRecord> idempotency_;
};

}  // namespace weft::store
