#include "server/document_models.h"

#include <gtest/gtest.h>

#include "core/byte_io.h"
#include "core/doc.h"
#include "core/struct_update_for_test.h"
#include "core/text_doc.h"

namespace weft::server {
namespace {

using core::ContainerRef;
using core::Value;

// The change that carries everything `doc` has of `client` beyond `from`.
proto::Change ChangeOf(const core::Doc& doc, uint64_t client,
                       const std::string& from_sv, uint64_t first_seq) {
  auto update = doc.EncodeDiff(from_sv);
  EXPECT_TRUE(update.ok());
  return {client, first_seq, doc.OpCount(client) - first_seq, *update};
}

std::unique_ptr<DocumentModel> Empty(std::string_view kind) {
  auto m = DocumentModels::LoadKind(kind, std::nullopt);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(*m);
}

TEST(DocumentModelsTest, BoardAcceptsChangesNamedByOpCount) {
  auto model = Empty("board");
  core::Doc a(7);
  std::string sv0 = a.EncodeStateVector();
  auto columns = ContainerRef::RootList("columns");
  auto col = a.structure().ListInsert(columns, 0, Value::NewMap());
  ASSERT_TRUE(col.ok());
  auto col_map = a.structure().MapSet(ContainerRef::RootMap("x"), "title",
                                      Value::String("Todo"));
  ASSERT_TRUE(col_map.ok());
  auto first = ChangeOf(a, 7, sv0, 0);
  EXPECT_EQ(first.span, 2u);
  ASSERT_TRUE(model->Apply(first).ok());
  EXPECT_EQ(model->NextSeq(7), 2u);

  // A nested text edited in the next change: its ops count on.
  std::string sv1 = a.EncodeStateVector();
  auto note = a.structure().MapSet(ContainerRef::RootMap("x"), "note",
                                   Value::NewText());
  ASSERT_TRUE(note.ok() && note->has_value());
  ASSERT_TRUE((*a.Text(**note))->Insert(0, "héllo").ok());
  auto second = ChangeOf(a, 7, sv1, 2);
  EXPECT_EQ(second.span, 6u);
  ASSERT_TRUE(model->Apply(second).ok());
  EXPECT_EQ(model->NextSeq(7), 8u);
  EXPECT_EQ(model->ContentJson(), a.ToJson());

  // The snapshot reloads as the same document.
  auto again = DocumentModels::LoadKind("canvas", model->EncodeSnapshot());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->ContentJson(), a.ToJson());
  EXPECT_EQ((*again)->NextSeq(7), 8u);
}

// A structure operation's Lamport clock is at most one past everything
// its client saw, which came through the server. One far ahead (here:
// the client integrated an operation the server never had, with a clock
// of 2^40) is refused: at the clock's limit it made every later edit of
// every client invalid.
TEST(DocumentModelsTest, BoardRefusesAClockFarAheadOfTheDocument) {
  auto model = Empty("board");
  core::Doc a(7);
  ASSERT_TRUE(a.structure()
                  .MapSet(ContainerRef::RootMap("x"), "a", Value::Int(1))
                  .ok());
  auto first = ChangeOf(a, 7, core::Doc(7).EncodeStateVector(), 0);
  ASSERT_TRUE(model->Apply(first).ok());
  core::ByteWriter w;  // a structure update of client 99, clock 2^40
  w.U8(1);
  w.U8(4);
  w.VarUint(1);
  w.VarUint(99);
  w.VarUint(1);
  w.VarUint(0);
  w.VarUint(0);
  w.VarUint(std::uint64_t{1} << 40);
  w.U8(0);  // map set
  w.U8(1);  // in a root map
  w.LengthPrefixed("x");
  w.LengthPrefixed("b");
  w.U8(2);  // int
  w.VarSint(2);
  ASSERT_TRUE(a.structure().ApplyUpdate(w.Take()).ok());
  std::string sv = a.EncodeClientStateVector(7);
  ASSERT_TRUE(a.structure()
                  .MapSet(ContainerRef::RootMap("x"), "c", Value::Int(3))
                  .ok());
  auto update = a.EncodeClientDiff(7, sv);
  ASSERT_TRUE(update.ok());
  Status s = model->Apply({7, 1, 1, *update});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  // Already durable (a log written before the check), it still loads.
  auto replayed = Empty("board");
  ASSERT_TRUE(replayed->ApplyDurable(first).ok());
  Status durable = replayed->ApplyDurable({7, 1, 1, *update});
  EXPECT_TRUE(durable.ok()) << durable.ToString();
}

// A change nesting containers deeper than local edits may (64) is refused;
// one already durable still loads, and renders the part past the limit
// as null (rendering recursed per level: a long chain crashed weftd).
TEST(DocumentModelsTest, BoardRefusesNestingPastTheLimitButLoadsIt) {
  core::Doc a(7);
  ContainerRef at = ContainerRef::RootMap("m");
  for (int depth = 1; depth <= 64; ++depth) {
    auto next = a.structure().MapSet(at, "a", Value::NewMap());
    ASSERT_TRUE(next.ok() && next->has_value()) << depth;
    at = **next;
  }
  auto chain = ChangeOf(a, 7, core::Doc(7).EncodeStateVector(), 0);
  auto model = Empty("board");
  ASSERT_TRUE(model->Apply(chain).ok());
  // Client 7 nests one more: its engine refuses; these bytes do not.
  core::ByteWriter w;
  w.U8(1);
  w.U8(4);
  w.VarUint(1);
  w.VarUint(7);
  w.VarUint(1);
  w.VarUint(0);
  w.VarUint(64);  // op (7, 64)
  w.VarUint(a.structure().lamport() + 1);
  w.U8(0);  // map set
  w.U8(0);  // in a nested map:
  w.VarUint(0);
  w.VarUint(63);  // the one op (7, 63) made
  w.LengthPrefixed("a");
  w.U8(5);  // a new map
  std::string sv = a.EncodeClientStateVector(7);
  ASSERT_TRUE(a.structure().ApplyUpdate(w.Take()).ok());
  EXPECT_EQ(a.structure().max_depth(), 65u);
  auto update = a.EncodeClientDiff(7, sv);
  ASSERT_TRUE(update.ok());
  proto::Change deeper{7, 64, 1, *update};
  Status s = model->Apply(deeper);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  auto durable = Empty("board");
  ASSERT_TRUE(durable->ApplyDurable(chain).ok());
  ASSERT_TRUE(durable->ApplyDurable(deeper).ok());
  std::string json = durable->ContentJson();
  EXPECT_NE(json.find(R"({"a":null})"), std::string::npos) << json;
}

// A change whose names, keys or strings are not UTF-8 is refused (they
// went out unchanged in GET content, invalid JSON); one already in the
// log still loads and renders with U+FFFD.
TEST(DocumentModelsTest, BoardRefusesStringsThatAreNotUtf8ButLoadsThem) {
  core::Doc a(7);
  std::string sv = a.EncodeClientStateVector(7);
  // Client 7's op 0: m["k"] = "\xFF".
  ASSERT_TRUE(
      a.structure()
          .ApplyUpdate(core::RootMapSetStringUpdate(7, 0, 1, "m", "k", "\xFF"))
          .ok());
  auto update = a.EncodeClientDiff(7, sv);
  ASSERT_TRUE(update.ok());
  proto::Change change{7, 0, 1, *update};
  auto model = Empty("board");
  Status s = model->Apply(change);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  auto durable = Empty("board");
  ASSERT_TRUE(durable->ApplyDurable(change).ok());
  EXPECT_EQ(durable->ContentJson(), "{\"map:m\":{\"k\":\"\xEF\xBF\xBD\"}}");
}

// A change of 6,000 one-character inserts all at the start takes 18
// million steps to place (each after every one before it): past what a
// client's change may take (the document is locked meanwhile). Refused;
// the same change already in the log still loads.
TEST(DocumentModelsTest, TextRefusesAChangeThatTakesTooLongToPlace) {
  constexpr uint64_t kRuns = 6000;
  core::ByteWriter w;
  w.U8(1);
  w.U8(1);
  w.VarUint(1);
  w.VarUint(7);
  w.VarUint(kRuns);
  for (uint64_t i = 0; i < kRuns; ++i) {
    w.VarUint(0);  // client 7's op i, at the start
    w.VarUint(i);
    w.VarUint(1);
    w.U8(0);
    w.VarUint(0);
    w.VarUint(0);
    w.LengthPrefixed("x");
  }
  proto::Change change{7, 0, kRuns, w.Take()};
  Status s = Empty("text")->Apply(change);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  auto durable = Empty("text");
  ASSERT_TRUE(durable->ApplyDurable(change).ok());
  EXPECT_EQ(durable->NextSeq(7), kRuns);
}

TEST(DocumentModelsTest, BoardRefusesChangesThatLieAboutTheirIds) {
  core::Doc a(7);
  std::string sv0 = a.EncodeStateVector();
  ASSERT_TRUE(a.structure()
                  .MapSet(ContainerRef::RootMap("m"), "k", Value::Int(1))
                  .ok());
  ASSERT_TRUE(a.structure()
                  .MapSet(ContainerRef::RootMap("m"), "j", Value::Int(2))
                  .ok());
  auto honest = ChangeOf(a, 7, sv0, 0);

  auto short_span = honest;
  short_span.span = 1;
  EXPECT_EQ(Empty("board")->Apply(short_span).code(),
            StatusCode::kInvalidArgument);
  auto other_client = honest;
  other_client.client_id = 8;
  EXPECT_EQ(Empty("board")->Apply(other_client).code(),
            StatusCode::kInvalidArgument);
  auto server_id = honest;
  server_id.client_id = 0;
  EXPECT_EQ(Empty("board")->Apply(server_id).code(),
            StatusCode::kInvalidArgument);
  auto garbage = honest;
  garbage.update = "\x01\x06garbage";
  EXPECT_FALSE(Empty("board")->Apply(garbage).ok());
  // A text update is not a board update.
  core::TextDoc t(7);
  ASSERT_TRUE(t.Insert(0, "ab").ok());
  auto text_update = honest;
  text_update.update = t.EncodeDiff({});
  EXPECT_FALSE(Empty("board")->Apply(text_update).ok());
}

TEST(DocumentModelsTest, BoardRefusesChangesWithMissingDependencies) {
  core::Doc a(7), b(9);
  auto shape = a.structure().MapSet(ContainerRef::RootMap("shapes"), "s",
                                    Value::NewMap());
  ASSERT_TRUE(shape.ok() && shape->has_value());
  // b learns of the shape, then edits inside it.
  auto all = a.EncodeDiff(b.EncodeStateVector());
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(b.ApplyUpdate(*all).ok());
  std::string b_sv = b.EncodeStateVector();
  ASSERT_TRUE(b.structure().MapSet(**shape, "x", Value::Int(3)).ok());
  auto b_update = b.EncodeDiff(b_sv);
  ASSERT_TRUE(b_update.ok());
  // The server never saw a's change: b's edit cannot apply yet.
  EXPECT_EQ(Empty("board")->Apply({9, 0, 1, *b_update}).code(),
            StatusCode::kInvalidArgument);
}

TEST(DocumentModelsTest, TextDocumentsStillLoadAsText) {
  auto model = Empty("text");
  core::TextDoc t(3);
  ASSERT_TRUE(t.Insert(0, "abc").ok());
  ASSERT_TRUE(model->Apply({3, 0, 3, t.EncodeDiff({})}).ok());
  EXPECT_EQ(model->ContentJson(), R"({"text":"abc"})");
  EXPECT_EQ(model->NextSeq(3), 3u);
  // A text snapshot is not a board snapshot.
  EXPECT_FALSE(DocumentModels::LoadKind("board", model->EncodeSnapshot()).ok());
}

TEST(DocumentModelsTest, TextRefusesChangesThatLieAboutTheirIds) {
  core::TextDoc t(7);
  ASSERT_TRUE(t.Insert(0, "abc").ok());  // ops 0..2 of client 7
  std::string update = t.EncodeDiff({});
  EXPECT_TRUE(Empty("text")->Apply({7, 0, 3, update}).ok());
  EXPECT_EQ(Empty("text")->Apply({7, 0, 2, update}).code(),
            StatusCode::kInvalidArgument);  // claims too few
  EXPECT_EQ(Empty("text")->Apply({7, 1, 3, update}).code(),
            StatusCode::kInvalidArgument);  // wrong first id
  EXPECT_EQ(Empty("text")->Apply({8, 0, 3, update}).code(),
            StatusCode::kInvalidArgument);  // another client's ops
  // Client 7's ops together with client 9's, named as client 7's only.
  core::TextDoc u(9);
  ASSERT_TRUE(u.Insert(0, "xy").ok());
  auto sv = u.EncodeStateVector();
  auto mine = t.EncodeDiffBytes(sv);
  ASSERT_TRUE(mine.ok());
  ASSERT_TRUE(u.ApplyUpdate(*mine).ok());
  EXPECT_EQ(Empty("text")->Apply({7, 0, 3, u.EncodeDiff({})}).code(),
            StatusCode::kInvalidArgument);
}

// A retried change (ids the model holds) must hold nothing new: not
// garbage, not operations of another client under the cover of the retry.
TEST(DocumentModelsTest, RetriesHoldNothingTheModelLacks) {
  core::TextDoc alice(7);
  ASSERT_TRUE(alice.Insert(0, "abc").ok());
  const std::string update = alice.EncodeDiff({});
  auto text = Empty("text");
  ASSERT_TRUE(text->Apply({7, 0, 3, update}).ok());
  EXPECT_TRUE(text->CheckRetry({7, 0, 3, update}).ok());
  EXPECT_TRUE(text->CheckRetry({7, 1, 1, update}).ok());  // known ops only
  EXPECT_FALSE(text->CheckRetry({7, 1, 1, "\xde\xad\xbe\xef"}).ok());
  // Alice's next operations, forged by client 9 as its "retry".
  core::TextDoc forger(7);
  ASSERT_TRUE(forger.ApplyUpdate(update).ok());
  ASSERT_TRUE(forger.Insert(3, "EVIL").ok());
  EXPECT_EQ(text->CheckRetry({9, 0, 1, forger.EncodeClientDiff(7, 3)}).code(),
            StatusCode::kInvalidArgument);

  auto board = Empty("board");
  core::Doc a(7);
  std::string sv0 = a.EncodeStateVector();
  ASSERT_TRUE(a.structure()
                  .MapSet(ContainerRef::RootMap("m"), "k", Value::Int(1))
                  .ok());
  auto first = ChangeOf(a, 7, sv0, 0);
  ASSERT_TRUE(board->Apply(first).ok());
  EXPECT_TRUE(board->CheckRetry(first).ok());
  std::string sv1 = a.EncodeStateVector();
  ASSERT_TRUE(a.structure()
                  .MapSet(ContainerRef::RootMap("m"), "k", Value::Int(2))
                  .ok());
  auto next = ChangeOf(a, 7, sv1, 1);
  next.first_seq = 0;  // new operations passed off as a retry
  EXPECT_EQ(board->CheckRetry(next).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Empty("board")->CheckRetry({7, 0, 1, "\x01\x06junk"}).ok());
}

TEST(DocumentModelsTest, LoadsByTheDocumentsKind) {
  DocumentModels models([](const std::string& id) -> Result<std::string> {
    if (id == "b") return std::string("board");
    if (id == "t") return std::string("text");
    if (id == "odd") return std::string("spreadsheet");
    return Status::NotFound("no such document");
  });
  auto board = models.Load("b", std::nullopt);
  ASSERT_TRUE(board.ok());
  EXPECT_EQ((*board)->ContentJson(), core::Doc(1).ToJson());
  auto text = models.Load("t", std::nullopt);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ((*text)->ContentJson(), R"({"text":""})");
  EXPECT_EQ(models.Load("odd", std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(models.Load("gone", std::nullopt).status().code(),
            StatusCode::kNotFound);
  // Without a kind source every document is text.
  auto plain = DocumentModels().Load("anything", std::nullopt);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->ContentJson(), R"({"text":""})");
}

}  // namespace
}  // namespace weft::server
