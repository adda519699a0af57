// The metadata half of the conformance suite: memory, SQLite, PostgreSQL.
#include <gtest/gtest.h>

#include "store/store_test_backends.h"

namespace weft::store::testing {
namespace {

template <typename Backend>
class MetadataConformanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Backend::SetUpTestSuite(); }
  static void TearDownTestSuite() { Backend::TearDownTestSuite(); }

  void SetUp() override {
    auto s = backend_.OpenFresh();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  MetadataStore& m() { return store_->metadata(); }

  // Two users and a workspace owned by the first.
  void Seed() {
    ASSERT_TRUE(m().CreateUser(Alice()).ok());
    ASSERT_TRUE(m().CreateUser(Bob()).ok());
    ASSERT_TRUE(m().CreateWorkspace(Ws()).ok());
  }
  static User Alice() {
    return {"u-alice", "alice@example.com", "Alice", "argon2id$a", 10};
  }
  static User Bob() {
    return {"u-bob", "bob@example.com", "Bob", "argon2id$b", 11, 3};
  }
  static Workspace Ws() { return {"w1", "acme", "Acme", "u-alice", 12}; }

  Backend backend_;
  std::unique_ptr<Store> store_;
};

using Backends = ::testing::Types<MemoryBackend, SqliteBackend, PgBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};
TYPED_TEST_SUITE(MetadataConformanceTest, Backends, BackendNames);

#define EXPECT_CODE(expr, c) EXPECT_EQ((expr).code(), StatusCode::c)
#define EXPECT_RCODE(expr, c) EXPECT_EQ((expr).status().code(), StatusCode::c)

TYPED_TEST(MetadataConformanceTest, UsersHaveUniqueIdsAndEmails) {
  auto& m = this->m();
  ASSERT_TRUE(m.CreateUser(this->Alice()).ok());
  User dup_id = this->Bob();
  dup_id.id = "u-alice";
  EXPECT_CODE(m.CreateUser(dup_id), kAlreadyExists);
  User dup_email = this->Bob();
  dup_email.email = "alice@example.com";
  EXPECT_CODE(m.CreateUser(dup_email), kAlreadyExists);
  auto got = m.GetUser("u-alice");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, this->Alice());
  auto by_email = m.GetUserByEmail("alice@example.com");
  ASSERT_TRUE(by_email.ok());
  EXPECT_EQ(by_email->id, "u-alice");
  EXPECT_RCODE(m.GetUser("nobody"), kNotFound);
  EXPECT_RCODE(m.GetUserByEmail("x@example.com"), kNotFound);
  ASSERT_TRUE(m.CreateUser(this->Bob()).ok());
  auto bob = m.GetUserByEmail("bob@example.com");
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(*bob, this->Bob()) << "the token version is stored";
  std::string old_hash = this->Alice().password_hash;
  ASSERT_TRUE(m.SetPasswordHash("u-alice", old_hash, "argon2id$new", 7).ok());
  EXPECT_EQ(m.GetUser("u-alice")->password_hash, "argon2id$new");
  EXPECT_EQ(m.GetUser("u-alice")->token_version, 7);
  // Compare-and-set: a second writer that read the old hash loses.
  EXPECT_CODE(m.SetPasswordHash("u-alice", old_hash, "argon2id$other", 8),
              kFailedPrecondition);
  EXPECT_EQ(m.GetUser("u-alice")->password_hash, "argon2id$new");
  EXPECT_EQ(m.GetUser("u-alice")->token_version, 7);
  EXPECT_CODE(m.SetPasswordHash("nobody", "h", "h2", 1), kNotFound);
}

TYPED_TEST(MetadataConformanceTest, RefreshTokenRotationDetectsReuse) {
  auto& m = this->m();
  this->Seed();
  RefreshTokenFamily f{"f1", "u-alice", "hash0", 0, 100, 1000, false, 42, ""};
  EXPECT_CODE(
      m.CreateRefreshFamily({"f0", "nobody", "h", 0, 0, 0, false, 0, ""}),
      kInvalidArgument);
  ASSERT_TRUE(m.CreateRefreshFamily(f).ok());
  EXPECT_CODE(
      m.CreateRefreshFamily({"f2", "u-bob", "hash0", 0, 0, 0, false, 0, ""}),
      kAlreadyExists);
  EXPECT_EQ(*m.GetRefreshFamily("f1"), f);
  // A token never issued (anyone who saw the family id can make one)
  // changes nothing, before and after a rotation.
  EXPECT_RCODE(m.RotateRefreshToken("f1", "forged", "x", 2000),
               kPermissionDenied);
  auto r = m.RotateRefreshToken("f1", "hash0", "hash1", 2000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->generation, 1);
  EXPECT_EQ(r->token_hash, "hash1");
  EXPECT_EQ(r->prev_token_hash, "hash0");
  EXPECT_EQ(r->token_version, 42);
  EXPECT_EQ(*m.GetRefreshFamily("f1"), *r);
  EXPECT_RCODE(m.RotateRefreshToken("f1", "forged", "x", 2000),
               kPermissionDenied);
  EXPECT_FALSE(m.GetRefreshFamily("f1")->revoked);
  // The old token again: reuse. The family is revoked for good.
  EXPECT_RCODE(m.RotateRefreshToken("f1", "hash0", "hash2", 3000), kAborted);
  EXPECT_TRUE(m.GetRefreshFamily("f1")->revoked);
  EXPECT_RCODE(m.RotateRefreshToken("f1", "hash1", "hash3", 3000),
               kFailedPrecondition);
  EXPECT_RCODE(m.RotateRefreshToken("nope", "a", "b", 0), kNotFound);

  ASSERT_TRUE(
      m.CreateRefreshFamily({"f3", "u-bob", "b0", 0, 0, 9, false, 0, ""}).ok());
  ASSERT_TRUE(
      m.CreateRefreshFamily({"f4", "u-bob", "b1", 0, 0, 9, false, 0, ""}).ok());
  ASSERT_TRUE(m.RevokeUserRefreshFamilies("u-bob").ok());
  EXPECT_TRUE(m.GetRefreshFamily("f3")->revoked);
  EXPECT_TRUE(m.GetRefreshFamily("f4")->revoked);
  EXPECT_CODE(m.RevokeRefreshFamily("nope"), kNotFound);
}

TYPED_TEST(MetadataConformanceTest, WorkspacesAndMembershipsAreUnique) {
  auto& m = this->m();
  this->Seed();
  EXPECT_CODE(m.CreateWorkspace({"w2", "acme", "Other", "u-bob", 0}),
              kAlreadyExists);
  EXPECT_CODE(m.CreateWorkspace({"w3", "other", "Other", "nobody", 0}),
              kInvalidArgument);
  EXPECT_EQ(*m.GetWorkspace("w1"), this->Ws());
  EXPECT_EQ(m.GetWorkspaceBySlug("acme")->id, "w1");
  EXPECT_RCODE(m.GetWorkspaceBySlug("none"), kNotFound);

  ASSERT_TRUE(m.AddMember({"w1", "u-bob", Role::kEditor, 5}).ok());
  ASSERT_TRUE(m.AddMember({"w1", "u-alice", Role::kOwner, 4}).ok());
  EXPECT_CODE(m.AddMember({"w1", "u-bob", Role::kViewer, 6}), kAlreadyExists);
  EXPECT_CODE(m.AddMember({"nows", "u-bob", Role::kViewer, 6}),
              kInvalidArgument);
  EXPECT_CODE(m.AddMember({"w1", "nobody", Role::kViewer, 6}),
              kInvalidArgument);
  ASSERT_TRUE(m.SetMemberRole("w1", "u-bob", Role::kEditor).ok());
  EXPECT_EQ(m.GetMembership("w1", "u-bob")->role, Role::kEditor);
  EXPECT_CODE(m.SetMemberRole("w1", "nobody", Role::kEditor), kNotFound);
  auto members = m.ListMembers("w1");
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0], (Membership{"w1", "u-alice", Role::kOwner, 4}));
  EXPECT_EQ((*members)[1].user_id, "u-bob");
  ASSERT_TRUE(m.RemoveMember("w1", "u-bob").ok());
  EXPECT_CODE(m.RemoveMember("w1", "u-bob"), kNotFound);
  EXPECT_RCODE(m.GetMembership("w1", "u-bob"), kNotFound);
}

TYPED_TEST(MetadataConformanceTest, InvitationsAreAcceptedOnceAndAtomically) {
  auto& m = this->m();
  this->Seed();
  Invitation inv{"i1",          "w1",   "bob@example.com",
                 Role::kEditor, "tok1", "u-alice",
                 100,           1000,   std::nullopt};
  ASSERT_TRUE(m.CreateInvitation(inv).ok());
  Invitation same_email = inv;
  same_email.id = "i2";
  same_email.token_hash = "tok2";
  EXPECT_CODE(m.CreateInvitation(same_email), kAlreadyExists);
  Invitation same_token = inv;
  same_token.id = "i3";
  same_token.email = "carol@example.com";
  EXPECT_CODE(m.CreateInvitation(same_token), kAlreadyExists);
  EXPECT_EQ(*m.GetInvitationByToken("tok1"), inv);

  EXPECT_CODE(m.AcceptInvitation("tok1", "u-bob", 1000), kFailedPrecondition)
      << "expired at now == expires_ms";
  EXPECT_CODE(m.AcceptInvitation("nope", "u-bob", 500), kNotFound);
  ASSERT_TRUE(m.AcceptInvitation("tok1", "u-bob", 500).ok());
  EXPECT_EQ(m.GetMembership("w1", "u-bob")->role, Role::kEditor);
  EXPECT_EQ(m.GetInvitationByToken("tok1")->accepted_ms, 500);
  EXPECT_CODE(m.AcceptInvitation("tok1", "u-bob", 600), kFailedPrecondition);

  // Accepting for someone already a member fails and leaves it open.
  ASSERT_TRUE(m.AddMember({"w1", "u-alice", Role::kOwner, 1}).ok());
  Invitation again{"i4",          "w1",   "alice@example.com",
                   Role::kViewer, "tok4", "u-alice",
                   100,           1000,   std::nullopt};
  ASSERT_TRUE(m.CreateInvitation(again).ok());
  EXPECT_CODE(m.AcceptInvitation("tok4", "u-alice", 500), kAlreadyExists);
  EXPECT_FALSE(m.GetInvitationByToken("tok4")->accepted_ms.has_value());
  EXPECT_EQ(m.GetMembership("w1", "u-alice")->role, Role::kOwner);
}

TYPED_TEST(MetadataConformanceTest, ProfilesAndWorkspacesAreEditable) {
  auto& m = this->m();
  this->Seed();
  ASSERT_TRUE(m.SetDisplayName("u-bob", "Robert'").ok());
  EXPECT_EQ(m.GetUser("u-bob")->display_name, "Robert'");
  EXPECT_CODE(m.SetDisplayName("nobody", "x"), kNotFound);
  ASSERT_TRUE(m.RenameWorkspace("w1", "Acme Two").ok());
  EXPECT_EQ(m.GetWorkspace("w1")->name, "Acme Two");
  EXPECT_CODE(m.RenameWorkspace("nope", "x"), kNotFound);

  ASSERT_TRUE(m.CreateWorkspace({"w2", "beta", "Beta", "u-alice", 13}).ok());
  ASSERT_TRUE(m.AddMember({"w2", "u-bob", Role::kViewer, 1}).ok());
  ASSERT_TRUE(m.AddMember({"w1", "u-bob", Role::kEditor, 1}).ok());
  auto mine = m.ListUserMemberships("u-bob");
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].workspace_id, "w1");
  EXPECT_EQ((*mine)[1].role, Role::kViewer);
  EXPECT_TRUE(m.ListUserMemberships("u-alice")->empty());
}

TYPED_TEST(MetadataConformanceTest, InvitationsAreListedAndRevoked) {
  auto& m = this->m();
  this->Seed();
  ASSERT_TRUE(m.CreateWorkspace({"w2", "beta", "Beta", "u-alice", 13}).ok());
  Invitation a{"i1", "w1", "bob@example.com", Role::kEditor, "tok1", "u-alice",
               100,  1000, std::nullopt};
  Invitation b{"i2",          "w1",   "carol@example.com",
               Role::kViewer, "tok2", "u-alice",
               100,           1000,   std::nullopt};
  ASSERT_TRUE(m.CreateInvitation(b).ok());
  ASSERT_TRUE(m.CreateInvitation(a).ok());
  auto list = m.ListInvitations("w1");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], a);
  EXPECT_TRUE(m.ListInvitations("w2")->empty());
  EXPECT_CODE(m.DeleteInvitation("w2", "i1"), kNotFound);
  ASSERT_TRUE(m.DeleteInvitation("w1", "i1").ok());
  EXPECT_RCODE(m.GetInvitationByToken("tok1"), kNotFound);
  EXPECT_CODE(m.DeleteInvitation("w1", "i1"), kNotFound);
}

TYPED_TEST(MetadataConformanceTest, DeletingAWorkspaceDeletesWhatItHolds) {
  auto& m = this->m();
  this->Seed();
  ASSERT_TRUE(m.CreateWorkspace({"w2", "beta", "Beta", "u-alice", 13}).ok());
  for (const char* w : {"w1", "w2"}) {
    ASSERT_TRUE(m.AddMember({w, "u-bob", Role::kEditor, 1}).ok());
    ASSERT_TRUE(
        m.CreateInvitation({std::string("i-") + w, w, "carol@example.com",
                            Role::kViewer, std::string("tok-") + w, "u-alice",
                            1, 1000, std::nullopt})
            .ok());
    ASSERT_TRUE(m.CreateDocument({std::string("d-") + w, w, DocumentKind::kText,
                                  "T", "u-bob", 1, 1, std::nullopt})
                    .ok());
    ASSERT_TRUE(
        m.RecordActivity({0, w, std::nullopt, "u-bob", "x", "{}", 1}).ok());
  }
  ASSERT_TRUE(m.DeleteWorkspace("w1").ok());
  EXPECT_RCODE(m.GetWorkspace("w1"), kNotFound);
  EXPECT_RCODE(m.GetMembership("w1", "u-bob"), kNotFound);
  EXPECT_RCODE(m.GetDocument("d-w1"), kNotFound);
  EXPECT_TRUE(m.ListInvitations("w1")->empty());
  EXPECT_TRUE(m.ListActivity("w1", 0, 10)->empty());
  EXPECT_CODE(m.DeleteWorkspace("w1"), kNotFound);
  // The other workspace is untouched.
  EXPECT_TRUE(m.GetMembership("w2", "u-bob").ok());
  EXPECT_TRUE(m.GetDocument("d-w2").ok());
  EXPECT_EQ(m.ListInvitations("w2")->size(), 1u);
  EXPECT_EQ(m.ListActivity("w2", 0, 10)->size(), 1u);
}

TYPED_TEST(MetadataConformanceTest, DocumentsSoftDeleteAndRestore) {
  auto& m = this->m();
  this->Seed();
  DocumentInfo a{"d-a", "w1", DocumentKind::kText, "Notes", "u-alice",
                 1,     1,    std::nullopt};
  DocumentInfo b{"d-b", "w1", DocumentKind::kBoard, "Plan", "u-bob",
                 2,     2,    std::nullopt};
  DocumentInfo c{"d-c", "w1", DocumentKind::kCanvas, "Sketch", "u-bob",
                 3,     3,    std::nullopt};
  ASSERT_TRUE(m.CreateDocument(a).ok());
  ASSERT_TRUE(m.CreateDocument(b).ok());
  ASSERT_TRUE(m.CreateDocument(c).ok());
  EXPECT_CODE(m.CreateDocument(a), kAlreadyExists);
  DocumentInfo orphan = a;
  orphan.id = "d-x";
  orphan.workspace_id = "nows";
  EXPECT_CODE(m.CreateDocument(orphan), kInvalidArgument);
  EXPECT_EQ(*m.GetDocument("d-c"), c);

  ASSERT_TRUE(m.RenameDocument("d-a", "Notes v2", 50).ok());
  ASSERT_TRUE(m.SoftDeleteDocument("d-b", 60).ok());
  auto live = m.ListDocuments("w1", false);
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 2u);
  EXPECT_EQ((*live)[0].title, "Notes v2");
  EXPECT_EQ((*live)[0].updated_ms, 50);
  EXPECT_EQ((*live)[1].id, "d-c");
  auto all = m.ListDocuments("w1", true);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].deleted_ms, 60);
  ASSERT_TRUE(m.RestoreDocument("d-b", 70).ok());
  EXPECT_FALSE(m.GetDocument("d-b")->deleted_ms.has_value());
  EXPECT_EQ(m.ListDocuments("w1", false)->size(), 3u);
  EXPECT_CODE(m.SoftDeleteDocument("nope", 1), kNotFound);
  EXPECT_CODE(m.RenameDocument("nope", "t", 1), kNotFound);
  EXPECT_RCODE(m.GetDocument("nope"), kNotFound);

  // The retention purge: deleted before a time, oldest first, then gone.
  ASSERT_TRUE(m.SoftDeleteDocument("d-c", 80).ok());
  ASSERT_TRUE(m.SoftDeleteDocument("d-a", 90).ok());
  auto old = m.ListDeletedBefore(85, 10);
  ASSERT_TRUE(old.ok());
  ASSERT_EQ(old->size(), 1u);
  EXPECT_EQ((*old)[0].id, "d-c");
  auto both = m.ListDeletedBefore(100, 10);
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0].id, "d-c");
  EXPECT_EQ((*both)[1].id, "d-a");
  EXPECT_EQ(m.ListDeletedBefore(100, 1)->size(), 1u);
  EXPECT_CODE(m.PurgeDocument("d-b"), kNotFound);  // not deleted: kept
  ASSERT_TRUE(m.PurgeDocument("d-c").ok());
  EXPECT_RCODE(m.GetDocument("d-c"), kNotFound);
  EXPECT_CODE(m.PurgeDocument("d-c"), kNotFound);
  EXPECT_EQ(m.ListDocuments("w1", true)->size(), 2u);
}

TYPED_TEST(MetadataConformanceTest, ActivityPagesNewestFirst) {
  auto& m = this->m();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    Activity a{
        0,         i == 2 ? "w2" : "w1", std::nullopt,
        "u-alice", "document.created",   "{\"n\":" + std::to_string(i) + "}",
        i};
    if (i % 2 == 0) a.document_id = "d" + std::to_string(i);
    auto id = m.RecordActivity(a);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    if (!ids.empty()) {
      EXPECT_GT(*id, ids.back());
    }
    ids.push_back(*id);
  }
  auto page = m.ListActivity("w1", 0, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, ids[4]);
  EXPECT_EQ((*page)[0].document_id, "d4");
  EXPECT_EQ((*page)[1].id, ids[3]);
  EXPECT_FALSE((*page)[1].document_id.has_value());
  auto next = m.ListActivity("w1", (*page)[1].id, 10);
  ASSERT_EQ(next->size(), 2u);  // ids[1], ids[0]; ids[2] is w2
  EXPECT_EQ((*next)[0].id, ids[1]);
  EXPECT_EQ((*next)[1].detail, "{\"n\":0}");
}

TYPED_TEST(MetadataConformanceTest, IdempotencyKeysAreUniquePerUser) {
  auto& m = this->m();
  IdempotencyRecord r{
      "u1", "key-1", "sha:abc", 201, std::string("{\"id\":\"d1\"}\0", 13), 100};
  ASSERT_TRUE(m.PutIdempotencyRecord(r).ok());
  IdempotencyRecord again = r;
  again.request_hash = "sha:other";
  EXPECT_CODE(m.PutIdempotencyRecord(again), kAlreadyExists);
  EXPECT_EQ(*m.GetIdempotencyRecord("u1", "key-1"), r);
  IdempotencyRecord other_user = r;
  other_user.user_id = "u2";
  other_user.created_ms = 300;
  ASSERT_TRUE(m.PutIdempotencyRecord(other_user).ok());
  EXPECT_RCODE(m.GetIdempotencyRecord("u1", "key-2"), kNotFound);
  auto n = m.ExpireIdempotencyRecords(200);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_RCODE(m.GetIdempotencyRecord("u1", "key-1"), kNotFound);
  EXPECT_TRUE(m.GetIdempotencyRecord("u2", "key-1").ok());
}

TYPED_TEST(MetadataConformanceTest, AnIdempotencyReservationIsFinishedOnce) {
  auto& m = this->m();
  IdempotencyRecord pending{"u1", "k", "h", 0, "", 100};
  ASSERT_TRUE(m.PutIdempotencyRecord(pending).ok());
  EXPECT_CODE(m.PutIdempotencyRecord(pending), kAlreadyExists);  // reserved
  EXPECT_EQ(m.GetIdempotencyRecord("u1", "k")->status_code, 0);
  ASSERT_TRUE(m.FinishIdempotencyRecord("u1", "k", 201, "{\"id\":1}").ok());
  auto done = m.GetIdempotencyRecord("u1", "k");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(*done, (IdempotencyRecord{"u1", "k", "h", 201, "{\"id\":1}", 100}));
  // Finished: not pending any more.
  EXPECT_CODE(m.FinishIdempotencyRecord("u1", "k", 500, "x"), kNotFound);
  EXPECT_CODE(m.FinishIdempotencyRecord("u2", "k", 201, "x"), kNotFound);
  // A finished record is not a reservation.
  EXPECT_CODE(m.ReleaseIdempotencyReservation("u1", "k", 100), kNotFound);
  // A reservation whose request failed is released, and the key is free;
  // only by the request that made it (its time), once.
  ASSERT_TRUE(m.PutIdempotencyRecord({"u1", "k2", "h", 0, "", 100}).ok());
  EXPECT_CODE(m.ReleaseIdempotencyReservation("u1", "k2", 99), kNotFound);
  ASSERT_TRUE(m.ReleaseIdempotencyReservation("u1", "k2", 100).ok());
  EXPECT_RCODE(m.GetIdempotencyRecord("u1", "k2"), kNotFound);
  EXPECT_CODE(m.ReleaseIdempotencyReservation("u1", "k2", 100), kNotFound);
  EXPECT_TRUE(m.PutIdempotencyRecord({"u1", "k2", "h2", 0, "", 200}).ok());
}

TYPED_TEST(MetadataConformanceTest, AccessChangesAreReadInOrderAfterAnId) {
  auto& m = this->m();
  EXPECT_EQ(*m.LastAccessChangeId(), 0);
  EXPECT_TRUE(m.ListAccessChangesAfter(0, 10)->empty());
  auto a = m.RecordAccessChange("u1", 100);
  auto b = m.RecordAccessChange("u2", 200);
  auto c = m.RecordAccessChange("u1", 300);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_LT(*a, *b);
  EXPECT_LT(*b, *c);
  EXPECT_EQ(*m.LastAccessChangeId(), *c);
  auto after_a = m.ListAccessChangesAfter(*a, 10);
  ASSERT_TRUE(after_a.ok());
  EXPECT_EQ(*after_a,
            (std::vector<AccessChange>{{*b, "u2", 200}, {*c, "u1", 300}}));
  auto first_two = m.ListAccessChangesAfter(0, 2);
  ASSERT_TRUE(first_two.ok());
  ASSERT_EQ(first_two->size(), 2u);
  EXPECT_EQ(first_two->back().id, *b);
  EXPECT_TRUE(m.ListAccessChangesAfter(*c, 10)->empty());

  EXPECT_EQ(*m.PruneAccessChanges(250), 2);
  EXPECT_EQ(*m.ListAccessChangesAfter(0, 10),
            (std::vector<AccessChange>{{*c, "u1", 300}}));
  // Pruning every entry does not make an id come back: a reader that saw
  // the newest one must see the next one.
  EXPECT_EQ(*m.PruneAccessChanges(1000), 1);
  EXPECT_EQ(*m.LastAccessChangeId(), *c);
  auto d = m.RecordAccessChange("u3", 400);
  ASSERT_TRUE(d.ok());
  EXPECT_GT(*d, *c);
  EXPECT_EQ(*m.ListAccessChangesAfter(*c, 10),
            (std::vector<AccessChange>{{*d, "u3", 400}}));
}

// What only a durable backend can do: survive being closed and reopened.
template <typename Backend>
class DurableMetadataTest : public MetadataConformanceTest<Backend> {};
using DurableBackends = ::testing::Types<SqliteBackend, PgBackend>;
TYPED_TEST_SUITE(DurableMetadataTest, DurableBackends, BackendNames);

TYPED_TEST(DurableMetadataTest, MetadataSurvivesReopen) {
  this->Seed();
  this->store_.reset();
  auto s = this->backend_.OpenAgain();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  this->store_ = std::move(*s);
  EXPECT_EQ(*this->m().GetUser("u-bob"), this->Bob());
  EXPECT_EQ(*this->m().GetWorkspace("w1"), this->Ws());
}

TYPED_TEST(DurableMetadataTest, AccessChangeIdsAreNotReusedAfterReopen) {
  auto first = this->m().RecordAccessChange("u1", 100);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(*this->m().PruneAccessChanges(1000), 1);
  this->store_.reset();
  auto s = this->backend_.OpenAgain();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  this->store_ = std::move(*s);
  EXPECT_EQ(*this->m().LastAccessChangeId(), *first);
  auto next = this->m().RecordAccessChange("u1", 200);
  ASSERT_TRUE(next.ok());
  EXPECT_GT(*next, *first);
}

}  // namespace
}  // namespace weft::store::testing
