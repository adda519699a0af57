#include "core/text_doc.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/byte_io.h"
#include "core/span.h"

namespace weft::core {
namespace {

void Sync(TextDoc& from, TextDoc& to) {
  auto r = to.ApplyUpdate(from.EncodeDiff(to.GetStateVector()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

TEST(TextDocTest, LocalEdits) {
  TextDoc d(1);
  ASSERT_TRUE(d.Insert(0, "hello").ok());
  ASSERT_TRUE(d.Insert(5, " world").ok());
  ASSERT_TRUE(d.Insert(0, "\xC3\xA9").ok());
  EXPECT_EQ(d.Text(), "\xC3\xA9hello world");
  EXPECT_EQ(d.length(), 12u);
  ASSERT_TRUE(d.Delete(1, 5).ok());
  EXPECT_EQ(d.Text(), "\xC3\xA9 world");
  EXPECT_EQ(d.Insert(99, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(d.Delete(5, 99).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(d.Insert(0, "\xFF").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(d.CheckInvariants().ok());
}

TEST(TextDocTest, AnchorsStayOnTheirCharacterWhileOthersEdit) {
  TextDoc a(1);
  ASSERT_TRUE(a.Insert(0, "héllo world").ok());
  TextDoc b(2);
  ASSERT_TRUE(b.ApplyUpdate(a.EncodeDiff({})).ok());
  // Bob's caret before "w" (code point 6), named by character.
  auto anchor = b.AnchorAt(6);
  ASSERT_TRUE(anchor.ok());
  EXPECT_FALSE(anchor->end);
  EXPECT_EQ(anchor->client, 1u);
  EXPECT_EQ(anchor->seq, 6u);
  // Alice types before it and deletes around it, concurrently with nothing
  // from Bob: the anchor follows its character on both replicas.
  ASSERT_TRUE(a.Insert(0, "¡Oh! ").ok());
  ASSERT_TRUE(a.Delete(5 + 1, 4).ok());  // "éllo" -> "¡Oh! h world"
  EXPECT_EQ(a.Text(), "¡Oh! h world");
  EXPECT_EQ(a.ResolveAnchor(*anchor), 7u);  // still before "w"
  ASSERT_TRUE(b.ApplyUpdate(a.EncodeDiff(b.GetStateVector())).ok());
  EXPECT_EQ(b.ResolveAnchor(*anchor), 7u);
  // Its character deleted: where it was.
  ASSERT_TRUE(a.Delete(7, 1).ok());
  EXPECT_EQ(a.Text(), "¡Oh! h orld");
  EXPECT_EQ(a.ResolveAnchor(*anchor), 7u);
  // At the end: after the last character, so what others append goes
  // after the position (as in an editor), and its deletion leaves the
  // position where the character was.
  auto end = a.AnchorAt(a.length());
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->after);
  EXPECT_FALSE(end->end);
  uint64_t was = a.length();
  EXPECT_EQ(a.ResolveAnchor(*end), was);
  ASSERT_TRUE(a.Insert(a.length(), "!?").ok());
  EXPECT_EQ(a.ResolveAnchor(*end), was);
  ASSERT_TRUE(a.Delete(was - 1, 1).ok());
  EXPECT_EQ(a.ResolveAnchor(*end), was - 1);
  // An empty text has only the end.
  TextDoc blank(4);
  auto nothing = blank.AnchorAt(0);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->end);
  ASSERT_TRUE(blank.Insert(0, "ab").ok());
  EXPECT_EQ(blank.ResolveAnchor(*nothing), 2u);
  // Out of range, and characters this replica does not hold.
  EXPECT_EQ(a.AnchorAt(a.length() + 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(a.ResolveAnchor({1, 999}), std::nullopt);
  EXPECT_EQ(a.ResolveAnchor({77, 0}), std::nullopt);
  TextDoc empty(3);
  EXPECT_EQ(empty.ResolveAnchor(*anchor), std::nullopt);
}

TEST(TextDocTest, OpCountsMatchTheStateVector) {
  TextDoc a(1), b(2);
  ASSERT_TRUE(a.Insert(0, "héllo").ok());
  ASSERT_TRUE(a.Delete(1, 2).ok());
  ASSERT_TRUE(b.Insert(0, "xy").ok());
  auto diff = b.EncodeDiffBytes(a.EncodeStateVector());
  ASSERT_TRUE(diff.ok());
  ASSERT_TRUE(a.ApplyUpdate(*diff).ok());
  auto sv = a.GetStateVector();
  ASSERT_EQ(sv.size(), 2u);
  std::uint64_t total = 0;
  for (const auto& [client, count] : sv) {
    EXPECT_EQ(a.OpCount(client), count);
    total += count;
  }
  EXPECT_EQ(a.TotalOpCount(), total);
  EXPECT_EQ(a.OpCount(99), 0u);
  EXPECT_EQ(TextDoc(3).TotalOpCount(), 0u);
  auto loaded = TextDoc::LoadSnapshot(a.EncodeSnapshot(), 3);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ((*loaded)->TotalOpCount(), total);
}

// Clients [first, end) each type an "x" at the start of `doc`.
void EachTypesAnX(TextDoc* doc, uint64_t first, uint64_t end) {
  for (uint64_t c = first; c < end; ++c) {
    TextDoc writer(c);
    ASSERT_TRUE(writer.Insert(0, "x").ok());
    ASSERT_TRUE(doc->ApplyUpdate(writer.EncodeDiff({})).ok());
  }
}

// A document that has seen many writers: one more keystroke's update names
// only the clients its runs use (its own, and its origin's), not every client
// the document knows, and still applies on a replica.
TEST(TextDocTest, AnUpdateNamesOnlyTheClientsItsRunsUse) {
  TextDoc doc(1);
  ASSERT_NO_FATAL_FAILURE(EachTypesAnX(&doc, 2, 52));
  TextDoc replica(99);
  ASSERT_TRUE(replica.ApplyUpdate(doc.EncodeDiff({})).ok());
  StateVector before = doc.GetStateVector();
  ASSERT_TRUE(doc.Insert(25, "y").ok());
  std::string update = doc.EncodeDiff(before);
  // version, kind, then the table's length (a one-byte varint here).
  ASSERT_GT(update.size(), 3u);
  EXPECT_LE(static_cast<uint8_t>(update[2]), 3);
  EXPECT_LT(update.size(), 32u);
  ASSERT_TRUE(replica.ApplyUpdate(update).ok());
  EXPECT_EQ(replica.Text(), doc.Text());
  // The whole document still names all 51 clients.
  EXPECT_EQ(static_cast<uint8_t>(doc.EncodeDiff({})[2]), 51);
}

// A local edit's update taken from its own client's range (what a client
// sends per keystroke, without building the document's state vector) is
// the same bytes as the diff since the edit started. Here it deletes the
// characters of 40 other clients, so its table outgrows the short scan and
// is re-sorted (the targets' clients are below its own).
TEST(TextDocTest, AClientDiffIsTheDiffSinceTheEditStarted) {
  TextDoc doc(1000);
  ASSERT_NO_FATAL_FAILURE(EachTypesAnX(&doc, 2, 42));
  TextDoc replica(7);
  ASSERT_TRUE(replica.ApplyUpdate(doc.EncodeDiff({})).ok());
  StateVector before = doc.GetStateVector();
  auto first = static_cast<uint32_t>(doc.OpCount(1000));
  std::string own = doc.EncodeClientStateVector(1000);
  EXPECT_EQ(own, EncodeStateVector({}));  // nothing of its own yet
  ASSERT_TRUE(doc.Insert(20, "ab").ok());
  ASSERT_TRUE(doc.Delete(0, 42).ok());
  ASSERT_TRUE(doc.Insert(0, "é").ok());
  std::string update = doc.EncodeClientDiff(1000, first);
  EXPECT_EQ(update, doc.EncodeDiff(before));
  EXPECT_EQ(*doc.EncodeClientDiffBytes(1000, own), update);
  EXPECT_EQ(doc.EncodeClientStateVector(1000),
            EncodeStateVector({{1000, first + 45}}));
  EXPECT_EQ(doc.EncodeClientDiffBytes(1000, "\x01\x03\x05").status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(static_cast<uint8_t>(update[2]), 41);  // 40 targets and itself
  ASSERT_TRUE(replica.ApplyUpdate(update).ok());
  EXPECT_EQ(replica.Text(), "é");
  // Nothing new, or a client it does not know: an empty update.
  std::string empty = doc.EncodeClientDiff(1000, first + 45);
  EXPECT_EQ(empty, doc.EncodeDiff(doc.GetStateVector()));
  EXPECT_EQ(doc.EncodeClientDiff(5555, 0), empty);
  ASSERT_TRUE(replica.ApplyUpdate(empty).ok());
  ASSERT_TRUE(doc.CheckInvariants().ok());
}

// A client typing after another's text names that client as the origin,
// and one deleting it names it as the target: both are in the table, in
// client order (the runs name client 99 first), and the update applies.
TEST(TextDocTest, AnUpdateTableListsOriginAndTargetClientsInOrder) {
  TextDoc one(1);
  ASSERT_TRUE(one.Insert(0, "ab").ok());
  for (bool erase : {false, true}) {
    SCOPED_TRACE(erase ? "delete" : "insert");
    TextDoc writer(99), replica(7);
    ASSERT_TRUE(writer.ApplyUpdate(one.EncodeDiff({})).ok());
    ASSERT_TRUE(replica.ApplyUpdate(one.EncodeDiff({})).ok());
    StateVector before = writer.GetStateVector();
    ASSERT_TRUE((erase ? writer.Delete(0, 1) : writer.Insert(1, "x")).ok());
    std::string update = writer.EncodeDiff(before);
    // version, kind, table length 2, clients 1 and 99 (one-byte varints).
    ASSERT_GT(update.size(), 5u);
    EXPECT_EQ(update.substr(2, 3), std::string("\x02\x01\x63", 3));
    ASSERT_TRUE(replica.ApplyUpdate(update).ok());
    EXPECT_EQ(replica.Text(), writer.Text());
  }
}

TEST(TextDocTest, ConcurrentInsertsDoNotInterleave) {
  TextDoc a(1), b(2);
  ASSERT_TRUE(a.Insert(0, "ab").ok());
  Sync(a, b);
  ASSERT_TRUE(a.Insert(1, "xxx").ok());
  ASSERT_TRUE(b.Insert(1, "yyy").ok());
  Sync(a, b);
  Sync(b, a);
  EXPECT_EQ(a.Text(), b.Text());
  EXPECT_TRUE(a.Text() == "axxxyyyb" || a.Text() == "ayyyxxxb") << a.Text();
  EXPECT_EQ(a.EncodeSnapshot(), b.EncodeSnapshot());
}

TEST(TextDocTest, ApplyIsIdempotentAndReportsChanges) {
  TextDoc a(1), b(2);
  ASSERT_TRUE(a.Insert(0, "hello").ok());
  std::string u = a.EncodeDiff({});
  auto r1 = b.ApplyUpdate(u);
  ASSERT_TRUE(r1.ok());
  ASSERT_EQ(r1->size(), 1u);
  EXPECT_EQ((*r1)[0], (TextChange{0, 0, "hello"}));
  auto r2 = b.ApplyUpdate(u);
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2->empty());
  EXPECT_EQ(b.Text(), "hello");
  ASSERT_TRUE(a.Delete(1, 3).ok());
  auto r3 = b.ApplyUpdate(a.EncodeDiff(b.GetStateVector()));
  ASSERT_TRUE(r3.ok());
  ASSERT_EQ(r3->size(), 1u);
  EXPECT_EQ((*r3)[0], (TextChange{1, 3, ""}));
  EXPECT_EQ(b.Text(), "ho");
}

TEST(TextDocTest, HoldsOpsUntilTheirParentsArrive) {
  TextDoc a(1), b(2);
  ASSERT_TRUE(a.Insert(0, "abc").ok());
  std::string first = a.EncodeDiff({});
  StateVector after_first = a.GetStateVector();
  ASSERT_TRUE(a.Insert(3, "def").ok());
  std::string second = a.EncodeDiff(after_first);
  ASSERT_TRUE(b.ApplyUpdate(second).ok());
  EXPECT_EQ(b.Text(), "");
  EXPECT_EQ(b.pending_runs(), 1u);
  ASSERT_TRUE(b.ApplyUpdate(first).ok());
  EXPECT_EQ(b.Text(), "abcdef");
  EXPECT_EQ(b.pending_runs(), 0u);
  ASSERT_TRUE(b.CheckInvariants().ok());
}

TEST(TextDocTest, SnapshotRoundTrip) {
  TextDoc a(7);
  ASSERT_TRUE(a.Insert(0, "hello world").ok());
  ASSERT_TRUE(a.Delete(2, 4).ok());
  ASSERT_TRUE(a.Insert(3, "\xE2\x82\xAC").ok());
  std::string snap = a.EncodeSnapshot();
  auto b = TextDoc::LoadSnapshot(snap, 8);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)->Text(), a.Text());
  EXPECT_EQ((*b)->EncodeSnapshot(), snap);
  ASSERT_TRUE((*b)->CheckInvariants().ok());
  // A peer can catch up from the loaded copy, deleted text elided.
  TextDoc c(9);
  ASSERT_TRUE(c.ApplyUpdate((*b)->EncodeDiff({})).ok());
  EXPECT_EQ(c.Text(), a.Text());
  EXPECT_EQ(c.EncodeSnapshot(), snap);
}

TEST(TextDocTest, LoadedDocTextFollowsEveryKindOfOperation) {
  // Text() right after a load that kept the text is the snapshot's own
  // text; every later operation (local insert, local delete, remote
  // update, remote delete) must show.
  TextDoc a(7);
  ASSERT_TRUE(a.Insert(0, "h\xC3\xA9llo world").ok());
  ASSERT_TRUE(a.Delete(2, 4).ok());
  const std::string snap = a.EncodeSnapshot();
  auto load = [&] {
    auto b = TextDoc::LoadSnapshot(snap, 8, {}, TextDoc::LoadKeep::kText);
    EXPECT_TRUE(b.ok());
    EXPECT_EQ((*b)->Text(), a.Text());
    return std::move(*b);
  };
  auto b = load();
  ASSERT_TRUE(b->Insert(1, "x").ok());
  EXPECT_EQ(b->Text(), "hx\xC3\xA9world");
  ASSERT_TRUE(b->CheckInvariants().ok());
  b = load();
  ASSERT_TRUE(b->Delete(0, 1).ok());
  EXPECT_EQ(b->Text(), "\xC3\xA9world");
  ASSERT_TRUE(b->CheckInvariants().ok());
  TextDoc c(9);
  ASSERT_TRUE(c.ApplyUpdate(a.EncodeDiff({})).ok());
  ASSERT_TRUE(c.Insert(c.length(), "!").ok());
  ASSERT_TRUE(c.Delete(0, 1).ok());
  b = load();
  ASSERT_TRUE(b->ApplyUpdate(c.EncodeDiff(b->GetStateVector())).ok());
  EXPECT_EQ(b->Text(), c.Text());
  EXPECT_EQ(b->Text(), "\xC3\xA9world!");
  ASSERT_TRUE(b->CheckInvariants().ok());
}

TEST(TextDocTest, RejectsSnapshotWithOperationGap) {
  // Fails after the spans were bulk-loaded (the path the fuzzer found
  // leaking leaves); the asan preset checks nothing leaks.
  TextDoc a(3);
  ASSERT_TRUE(a.Insert(0, "xyzw").ok());
  ASSERT_TRUE(a.Delete(1, 1).ok());
  ASSERT_TRUE(a.Insert(0, "q").ok());  // seq 5: the delete (seq 4) is a gap
  std::string snap = a.EncodeSnapshot();
  // The snapshot ends with its one delete run: ndel 1, len 1 << 1, target
  // seq 1 (zigzag 2). Without it, seq 4 is a gap.
  ASSERT_EQ(snap.substr(snap.size() - 3), std::string("\x01\x02\x02"));
  std::string no_deletes =
      snap.substr(0, snap.size() - 3) + std::string(1, '\0');
  auto r = TextDoc::LoadSnapshot(no_deletes, 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().ToString().find("gap"), std::string::npos)
      << r.status().ToString();
  ASSERT_TRUE(TextDoc::LoadSnapshot(snap, 4).ok());
}

TEST(TextDocTest, LoadsSnapshotWithDeleteRunsOutOfClientOrder) {
  // The encoder lists delete runs per client in table order; a decoder
  // also takes them interleaved (each client's runs keep their order).
  TextDoc a(1);
  ASSERT_TRUE(a.Insert(0, "ab").ok());  // 1:0, 1:1
  TextDoc b(2);
  ASSERT_TRUE(b.ApplyUpdate(a.EncodeDiff({})).ok());
  ASSERT_TRUE(b.Insert(2, "c").ok());  // 2:0
  ASSERT_TRUE(a.ApplyUpdate(b.EncodeDiff(a.GetStateVector())).ok());
  ASSERT_TRUE(a.Delete(1, 1).ok());  // 1:2 deletes 1:1
  ASSERT_TRUE(b.ApplyUpdate(a.EncodeDiff(b.GetStateVector())).ok());
  ASSERT_TRUE(b.Delete(0, 1).ok());  // 2:1 deletes 1:0
  ASSERT_TRUE(a.ApplyUpdate(b.EncodeDiff(a.GetStateVector())).ok());
  const std::string snap = a.EncodeSnapshot();
  // varuint(2) runs: client 0 (len 1, target client 0 at +1), then
  // client 1 (len 1, target client 0 at 1 - 1 = 0: zigzag -1).
  const std::string in_order("\x02\x00\x02\x00\x02\x01\x02\x00\x01", 9);
  ASSERT_EQ(snap.substr(snap.size() - 9), in_order);
  const std::string swapped("\x02\x01\x02\x00\x00\x00\x02\x00\x02", 9);
  auto loaded =
      TextDoc::LoadSnapshot(snap.substr(0, snap.size() - 9) + swapped, 3);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->Text(), "c");
  EXPECT_EQ((*loaded)->EncodeSnapshot(), snap);
  EXPECT_TRUE((*loaded)->CheckInvariants().ok());
}

TEST(TextDocTest, PeekChecksTheHeaderAndTheTextAndLeavesTheRestToTheLoad) {
  TextDoc a(7);
  ASSERT_TRUE(a.Insert(0, "h\xC3\xA9llo world").ok());
  ASSERT_TRUE(a.Delete(2, 4).ok());
  const std::string snap = a.EncodeSnapshot();
  ASSERT_EQ(snap[0], '\x02');  // format version 2: the text first
  auto peeked = TextDoc::PeekSnapshotText(snap);
  ASSERT_TRUE(peeked.ok()) << peeked.status().ToString();
  EXPECT_EQ(peeked->utf8, a.Text());
  EXPECT_EQ(peeked->length, a.length());
  // Spans and delete runs come after the text: a cut there is found by
  // the load, not by the peek.
  const std::string cut = snap.substr(0, snap.size() - 1);
  EXPECT_TRUE(TextDoc::PeekSnapshotText(cut).ok());
  auto loaded = TextDoc::LoadSnapshot(cut, 8);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption);
  // The header and the text are the peek's to check.
  const size_t at = snap.find("world");
  ASSERT_NE(at, std::string::npos);  // a short text is stored raw
  std::string bad_utf8 = snap;
  bad_utf8[at] = '\xFF';
  std::string bad_version = snap;
  bad_version[0] = '\x03';
  for (const std::string& bad :
       {bad_utf8, bad_version, snap.substr(0, at), std::string("\x02\x01")}) {
    auto p = TextDoc::PeekSnapshotText(bad);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kCorruption);
    EXPECT_FALSE(TextDoc::LoadSnapshot(bad, 8).ok());
  }
}

// A span's length has 31 bits. A 15-byte update with one run of 2^31
// deleted characters became a span of length 0 while the client's count
// grew by 2^31: the document's next snapshot did not load, and a diff of
// it aborted. Such runs are refused; runs that together pass the limit
// apply and stay apart (spans do not merge past it), so the document
// still round-trips through a snapshot and a diff.
TEST(TextDocTest, RunsAndSpansStayWithin31Bits) {
  const std::string one_run(
      "\x01\x01\x01\x05\x01\x00\x00\x80\x80\x80\x80\x08\x01\x00\x00", 15);
  TextDoc d(1);
  EXPECT_EQ(d.ApplyUpdate(one_run).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(d.OpCount(5), 0u);

  // Client 5: 2^31 - 1 deleted characters, then 2 more right after them.
  ByteWriter w;
  w.U8(1);
  w.U8(1);
  w.VarUint(1);
  w.VarUint(5);
  w.VarUint(2);
  for (uint32_t seq : {0u, kMaxSpanLen}) {
    w.VarUint(0);
    w.VarUint(seq);
    w.VarUint(seq == 0 ? kMaxSpanLen : 2);
    w.U8(1);  // inserted, deleted since
    if (seq == 0) {
      w.VarUint(0);
    } else {
      w.VarUint(1);
      w.VarUint(seq - 1);
    }
    w.VarUint(0);
  }
  ASSERT_TRUE(d.ApplyUpdate(w.Take()).ok());
  ASSERT_TRUE(d.CheckInvariants().ok());
  EXPECT_EQ(d.OpCount(5), uint64_t{kMaxSpanLen} + 2);
  auto loaded = TextDoc::LoadSnapshot(d.EncodeSnapshot(), 2);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->OpCount(5), uint64_t{kMaxSpanLen} + 2);
  TextDoc e(3);
  ASSERT_TRUE(e.ApplyUpdate(d.EncodeDiff({})).ok());
  EXPECT_EQ(e.OpCount(5), uint64_t{kMaxSpanLen} + 2);
  ASSERT_TRUE(e.CheckInvariants().ok());
}

// Update bytes as docs/format.md spells them: the header, listing
// `clients`, of an update of `runs` runs.
void UpdateHeader(ByteWriter& w, const std::vector<uint64_t>& clients,
                  uint64_t runs) {
  w.U8(1);
  w.U8(1);
  w.VarUint(clients.size());
  for (uint64_t c : clients) w.VarUint(c);
  w.VarUint(runs);
}

// One run: the client at `index` in the table inserts `ch` as its op
// `seq`, after op `left_seq` of the client at `left` - 1 (0: the start).
void InsertRun(ByteWriter& w, uint64_t index, uint64_t seq, uint64_t left,
               uint64_t left_seq, char ch) {
  w.VarUint(index);
  w.VarUint(seq);
  w.VarUint(1);
  w.U8(0);
  w.VarUint(left);
  if (left != 0) w.VarUint(left_seq);
  w.VarUint(0);
  w.LengthPrefixed(std::string(1, ch));
}

// Only the clients an update's runs name become agents of the document
// (agents are kept for good): a table padded with 10,000 clients no run
// names grew the document by ~1.8 MB and every later diff's work.
TEST(TextDocTest, ClientsNoRunNamesAreNotKept) {
  std::vector<uint64_t> clients{7};
  for (uint64_t c = 0; c < 10000; ++c) clients.push_back(100000 + c);
  ByteWriter w;
  UpdateHeader(w, clients, 1);
  InsertRun(w, 0, 0, 0, 0, 'x');  // client 7 inserts "x"
  TextDoc d(1);
  const size_t before = d.MemoryBytes();
  ASSERT_TRUE(d.ApplyUpdate(w.Take()).ok());
  EXPECT_EQ(d.Text(), "x");
  EXPECT_LT(d.MemoryBytes() - before, 10000u * 48);
}

// Nor do clients named only by runs that change nothing: a retry of an
// insert (a duplicate, which the server accepts as a retry) whose origins
// name 10,000 clients that never wrote.
TEST(TextDocTest, ClientsNamedOnlyByDuplicatesAreNotKept) {
  TextDoc d(1);
  ByteWriter w;
  UpdateHeader(w, {7}, 1);
  InsertRun(w, 0, 0, 0, 0, 'x');  // client 7 inserts "x"
  ASSERT_TRUE(d.ApplyUpdate(w.Take()).ok());
  const size_t before = d.MemoryBytes();
  constexpr uint64_t kClients = 10000;
  std::vector<uint64_t> clients{7};
  for (uint64_t c = 0; c < kClients; ++c) clients.push_back(100000 + c);
  UpdateHeader(w, clients, kClients);
  for (uint64_t c = 0; c < kClients; ++c) {
    InsertRun(w, 0, 0, c + 2, 0, 'x');  // again, after (100000 + c, 0)
  }
  ASSERT_TRUE(d.ApplyUpdate(w.Take()).ok());
  EXPECT_EQ(d.Text(), "x");
  EXPECT_EQ(d.TotalOpCount(), 1u);
  EXPECT_LT(d.MemoryBytes() - before, kClients * 48);
  ASSERT_TRUE(d.CheckInvariants().ok());
}

// Clients each waiting on the next one's insert, in one update: tried in
// table order, each pass over the queues integrated one link (2,000 clients:
// 2,000 passes; 80,000 in a 1 MB update took a minute). Waiting runs are
// now parked under the id they need; the result is the same document.
TEST(TextDocTest, AChainOfClientsWaitingOnEachOtherIntegrates) {
  constexpr uint64_t kClients = 2000;
  std::vector<uint64_t> clients;
  for (uint64_t j = 0; j < kClients; ++j) clients.push_back(1000 + j);
  ByteWriter w;
  UpdateHeader(w, clients, kClients);
  for (uint64_t j = 0; j < kClients; ++j) {
    // Client 1000 + j's character goes after client 1000 + j + 1's.
    InsertRun(w, j, 0, j + 1 < kClients ? j + 2 : 0, 0,
              static_cast<char>('a' + j % 26));
  }
  TextDoc d(1);
  ASSERT_TRUE(d.ApplyUpdate(w.Take()).ok());
  EXPECT_EQ(d.TotalOpCount(), kClients);
  std::string want;
  for (uint64_t j = kClients; j-- > 0;) want += static_cast<char>('a' + j % 26);
  EXPECT_EQ(d.Text(), want);
  ASSERT_TRUE(d.CheckInvariants().ok());
}

// One client's one-character runs, all at the start: each is placed after
// every one before it, N^2 / 2 steps. A limit on those steps refuses the
// update (servers set one for what clients send); below it, it applies.
TEST(TextDocTest, PlacingInsertsStopsAtTheScanLimit) {
  auto at_start = [](uint64_t runs) {
    ByteWriter w;
    UpdateHeader(w, {7}, runs);
    for (uint64_t i = 0; i < runs; ++i) InsertRun(w, 0, i, 0, 0, 'x');
    return w.Take();
  };
  TextDoc limited(1, TextDocLimits{.max_scan_steps = 1000});
  EXPECT_EQ(limited.ApplyUpdate(at_start(100)).status().code(),
            StatusCode::kResourceExhausted);
  TextDoc fits(1, TextDocLimits{.max_scan_steps = 1000});
  ASSERT_TRUE(fits.ApplyUpdate(at_start(40)).ok());  // 780 steps
  ASSERT_TRUE(fits.ApplyUpdate(at_start(40)).ok());  // a retry: none
  TextDoc unlimited(1);
  ASSERT_TRUE(unlimited.ApplyUpdate(at_start(100)).ok());
  EXPECT_EQ(unlimited.Text(), std::string(100, 'x'));
}

TEST(TextDocTest, RejectsGarbage) {
  TextDoc d(1);
  for (std::string bad :
       {std::string(), std::string("\x02"), std::string("\x01\x01\x01"),
        std::string("\x01\x01\x01\x05\x01\x00\x00\x01\x00"),
        std::string(1000, '\xFF')}) {
    EXPECT_FALSE(d.ApplyUpdate(bad).ok());
    EXPECT_FALSE(TextDoc::LoadSnapshot(bad, 1).ok());
  }
  EXPECT_EQ(d.Text(), "");
}

}  // namespace
}  // namespace weft::core
