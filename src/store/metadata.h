#pragma once

// Account metadata: users, refresh-token families, workspaces, memberships,
// invitations, documents, activity and REST idempotency keys.
//
// Ids are opaque text chosen by the caller; times are Unix milliseconds
// passed in by the caller. Unique natural keys (user email, workspace slug,
// membership, invitation token, idempotency key, every id) are enforced by
// the database; a conflict returns kAlreadyExists. A reference to a missing
// row or an out-of-range enum returns kInvalidArgument. Thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::store {

struct User {
  std::string id;
  std::string email;  // unique; the caller normalises (lower-case)
  std::string display_name;
  std::string
      password_hash;  // an encoded hash (e.g. argon2id), never a password
  std::int64_t created_ms = 0;
  // The version the user's tokens carry (TokenVersion); 0 until the
  // password is first replaced (a change, a reset, a rehash).
  std::int64_t token_version = 0;
  friend bool operator==(const User&, const User&) = default;
};

// The version a user's access, refresh and reset tokens carry; a token of
// another version is stale. `token_version` once set; before that (every
// account until its password is first replaced), a fingerprint of the
// password hash, as all versions were before they were stored. In
// [0, 2^53), a JSON-safe integer.
std::int64_t TokenVersion(const User& user);
// The version for `user`'s next password, hashed as `new_hash`, which ends
// every token of the current one: a fingerprint of `new_hash` (so versions
// do not repeat, even after a restore from backup puts an older one back),
// never 0 and never the current version.
std::int64_t NextTokenVersion(const User& user, std::string_view new_hash);

// A chain of refresh tokens issued from one login; only the hashes of the
// current token and the one before it are kept.
struct RefreshTokenFamily {
  std::string id;
  std::string user_id;
  std::string token_hash;  // hash of the current token; unique
  std::int64_t generation = 0;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  bool revoked = false;
  // The user's token version (a digest of the password hash) when the
  // login started the family; 0 for families older than schema version 4.
  std::int64_t token_version = 0;
  // Hash of the token the current one replaced ("" before the first
  // rotation): presenting it again is reuse.
  std::string prev_token_hash;
  friend bool operator==(const RefreshTokenFamily&,
                         const RefreshTokenFamily&) = default;
};

struct Workspace {
  std::string id;
  std::string slug;  // unique
  std::string name;
  std::string owner_id;
  std::int64_t created_ms = 0;
  friend bool operator==(const Workspace&, const Workspace&) = default;
};

// The product's roles (no "admin": the schema's CHECK still lists it, but
// nothing writes it and it does not parse).
enum class Role { kOwner, kEditor, kViewer };
std::string_view RoleName(Role role);  // "owner", ...
Result<Role> ParseRole(std::string_view name);

struct Membership {
  std::string workspace_id;
  std::string user_id;
  Role role = Role::kViewer;
  std::int64_t created_ms = 0;
  friend bool operator==(const Membership&, const Membership&) = default;
};

struct Invitation {
  std::string id;
  std::string workspace_id;
  std::string email;  // unique per workspace
  Role role = Role::kViewer;
  std::string token_hash;  // unique
  std::string inviter_id;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  std::optional<std::int64_t> accepted_ms;
  friend bool operator==(const Invitation&, const Invitation&) = default;
};

enum class DocumentKind { kText, kBoard, kCanvas };
std::string_view DocumentKindName(DocumentKind kind);  // "text", ...
Result<DocumentKind> ParseDocumentKind(std::string_view name);

struct DocumentInfo {
  std::string id;
  std::string workspace_id;
  DocumentKind kind = DocumentKind::kText;
  std::string title;
  std::string created_by;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::optional<std::int64_t> deleted_ms;  // set when soft-deleted
  friend bool operator==(const DocumentInfo&, const DocumentInfo&) = default;
};

struct Activity {
  std::int64_t id = 0;  // assigned by the store, increasing
  std::string workspace_id;
  std::optional<std::string> document_id;
  std::string user_id;
  std::string kind;    // e.g. "document.created"
  std::string detail;  // free text / JSON
  std::int64_t created_ms = 0;
  friend bool operator==(const Activity&, const Activity&) = default;
};

// A stored response to a REST request carrying an Idempotency-Key.
struct IdempotencyRecord {
  std::string user_id;
  std::string key;
  std::string request_hash;  // to detect a reused key with another body
  int status_code = 0;
  std::string response_body;
  std::int64_t created_ms = 0;
  friend bool operator==(const IdempotencyRecord&,
                         const IdempotencyRecord&) = default;
};

// An entry of the access change feed: the access of `user_id` changed
// (password replaced, sessions ended) in another process.
struct AccessChange {
  std::int64_t id = 0;  // assigned by the store, increasing in commit order
  std::string user_id;
  std::int64_t at_ms = 0;
  friend bool operator==(const AccessChange&, const AccessChange&) = default;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Users. kAlreadyExists on a taken id or email.
  virtual Status CreateUser(const User& user) = 0;
  virtual Result<User> GetUser(std::string_view id) = 0;
  virtual Result<User> GetUserByEmail(std::string_view email) = 0;
  // Replaces the hash and the token version only while the hash is still
  // `expected` (compare-and-set: two changes or resets that read the same
  // hash cannot both win, and a login's rehash cannot undo a change made
  // meanwhile). A new password takes NextTokenVersion (ending every
  // session); a rehash of the same one keeps TokenVersion.
  // kFailedPrecondition when the hash is another by now; kNotFound for an
  // unknown user.
  virtual Status SetPasswordHash(std::string_view user_id,
                                 std::string_view expected,
                                 std::string_view password_hash,
                                 std::int64_t token_version) = 0;
  // kNotFound for an unknown user.
  virtual Status SetDisplayName(std::string_view user_id,
                                std::string_view display_name) = 0;

  // Refresh-token families.
  virtual Status CreateRefreshFamily(const RefreshTokenFamily& family) = 0;
  virtual Result<RefreshTokenFamily> GetRefreshFamily(std::string_view id) = 0;
  // Compare-and-swap: if the family is live and its current token hash is
  // `presented_hash`, replaces it with `new_hash` (the current one becomes
  // prev_token_hash), bumps the generation and sets expires_ms. If
  // `presented_hash` is the previous token's (reuse: one of two holders
  // was a thief), revokes the family and returns kAborted. Any other hash
  // (never issued, or older) changes nothing: kPermissionDenied, so that
  // knowing a family id is not enough to end its session. kNotFound for
  // an unknown family; kFailedPrecondition for a revoked one.
  virtual Result<RefreshTokenFamily> RotateRefreshToken(
      std::string_view family_id, std::string_view presented_hash,
      std::string_view new_hash, std::int64_t expires_ms) = 0;
  virtual Status RevokeRefreshFamily(std::string_view id) = 0;
  // Revokes every family of the user (e.g. on password change).
  virtual Status RevokeUserRefreshFamilies(std::string_view user_id) = 0;

  // Workspaces and memberships.
  virtual Status CreateWorkspace(const Workspace& workspace) = 0;
  virtual Result<Workspace> GetWorkspace(std::string_view id) = 0;
  virtual Result<Workspace> GetWorkspaceBySlug(std::string_view slug) = 0;
  // kNotFound for an unknown workspace.
  virtual Status RenameWorkspace(std::string_view id,
                                 std::string_view name) = 0;
  // Deletes the workspace with its memberships, invitations, document
  // metadata and activity, atomically. The documents' op logs are not
  // touched. kNotFound for an unknown workspace.
  virtual Status DeleteWorkspace(std::string_view id) = 0;
  // kAlreadyExists if the user is already a member.
  virtual Status AddMember(const Membership& membership) = 0;
  virtual Result<Membership> GetMembership(std::string_view workspace_id,
                                           std::string_view user_id) = 0;
  virtual Status SetMemberRole(std::string_view workspace_id,
                               std::string_view user_id, Role role) = 0;
  virtual Status RemoveMember(std::string_view workspace_id,
                              std::string_view user_id) = 0;
  // Members of a workspace, ordered by user id.
  virtual Result<std::vector<Membership>> ListMembers(
      std::string_view workspace_id) = 0;
  // Memberships of a user, ordered by workspace id.
  virtual Result<std::vector<Membership>> ListUserMemberships(
      std::string_view user_id) = 0;

  // Invitations.
  virtual Status CreateInvitation(const Invitation& invitation) = 0;
  virtual Result<Invitation> GetInvitationByToken(
      std::string_view token_hash) = 0;
  // Invitations of a workspace (pending, accepted and expired), ordered by
  // id.
  virtual Result<std::vector<Invitation>> ListInvitations(
      std::string_view workspace_id) = 0;
  // Deletes (revokes) invitation `id` of `workspace_id`; kNotFound when the
  // workspace has no such invitation.
  virtual Status DeleteInvitation(std::string_view workspace_id,
                                  std::string_view id) = 0;
  // Atomically marks the invitation accepted and adds `user_id` as a member
  // with the invited role. kFailedPrecondition if already accepted or
  // expired at `now_ms`; kAlreadyExists if the user is already a member
  // (the invitation stays open).
  virtual Status AcceptInvitation(std::string_view token_hash,
                                  std::string_view user_id,
                                  std::int64_t now_ms) = 0;

  // Documents (metadata only; content is the op log).
  virtual Status CreateDocument(const DocumentInfo& document) = 0;
  virtual Result<DocumentInfo> GetDocument(std::string_view id) = 0;
  // Documents of a workspace ordered by id; soft-deleted ones only when asked.
  virtual Result<std::vector<DocumentInfo>> ListDocuments(
      std::string_view workspace_id, bool include_deleted) = 0;
  virtual Status RenameDocument(std::string_view id, std::string_view title,
                                std::int64_t now_ms) = 0;
  // Sets / clears deleted_ms. kNotFound for an unknown document.
  virtual Status SoftDeleteDocument(std::string_view id,
                                    std::int64_t now_ms) = 0;
  virtual Status RestoreDocument(std::string_view id, std::int64_t now_ms) = 0;
  // Soft-deleted documents of every workspace deleted before `before_ms`,
  // oldest first, at most `limit` (the retention purge).
  virtual Result<std::vector<DocumentInfo>> ListDeletedBefore(
      std::int64_t before_ms, std::size_t limit) = 0;
  // Removes the row of a soft-deleted document for good. kNotFound when
  // no soft-deleted document has that id (a restored one is kept).
  virtual Status PurgeDocument(std::string_view id) = 0;

  // Activity. Returns the assigned id.
  virtual Result<std::int64_t> RecordActivity(const Activity& activity) = 0;
  // Newest first, at most `limit`, with id < before_id (0 = from the newest).
  virtual Result<std::vector<Activity>> ListActivity(
      std::string_view workspace_id, std::int64_t before_id,
      std::size_t limit) = 0;

  // The access change feed: processes that change a user's access outside
  // the running server (`weft user reset-password`) record it here, and
  // the server polls the feed so that the user's live sessions learn it.
  // Ids increase in commit order and are never reused, so a reader that
  // remembers the last id it saw misses nothing. Returns the new id.
  virtual Result<std::int64_t> RecordAccessChange(std::string_view user_id,
                                                  std::int64_t at_ms) = 0;
  // Entries with id > after_id, oldest first, at most `limit`.
  virtual Result<std::vector<AccessChange>> ListAccessChangesAfter(
      std::int64_t after_id, std::size_t limit) = 0;
  // The newest entry's id; 0 when none was ever recorded.
  virtual Result<std::int64_t> LastAccessChangeId() = 0;
  // Deletes entries recorded before `cutoff_ms`; returns how many.
  virtual Result<std::int64_t> PruneAccessChanges(std::int64_t cutoff_ms) = 0;

  // Idempotency keys. kAlreadyExists if (user_id, key) is taken: the caller
  // then reads the stored record and replays or rejects.
  virtual Status PutIdempotencyRecord(const IdempotencyRecord& record) = 0;
  virtual Result<IdempotencyRecord> GetIdempotencyRecord(
      std::string_view user_id, std::string_view key) = 0;
  // Completes a reservation (a record put with status_code 0 before the
  // request ran) with the answer. kNotFound when no reservation of that
  // key is pending (it completed, or was deleted).
  virtual Status FinishIdempotencyRecord(std::string_view user_id,
                                         std::string_view key, int status_code,
                                         std::string_view response_body) = 0;
  // Deletes the reservation of `key` made at `created_ms` (status 0): one
  // whose request failed, or one abandoned by a crash. kNotFound when there
  // is none (it finished, was released, or is another request's), so that
  // of two requests taking over one abandoned reservation, only one can.
  virtual Status ReleaseIdempotencyReservation(std::string_view user_id,
                                               std::string_view key,
                                               std::int64_t created_ms) = 0;
  // Deletes records created before `cutoff_ms`; returns how many.
  virtual Result<std::int64_t> ExpireIdempotencyRecords(
      std::int64_t cutoff_ms) = 0;
};

}  // namespace weft::store
