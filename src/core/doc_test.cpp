#include "core/doc.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace weft::core {
namespace {

void Sync(const Doc& from, Doc& to) {
  auto diff = from.EncodeDiff(to.EncodeStateVector());
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  Status s = to.ApplyUpdate(*diff);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

TEST(DocTest, ShapesWithNestedTextConverge) {
  Doc a(1), b(2);
  auto shapes = ContainerRef::RootMap("shapes");
  auto shape = a.structure().MapSet(shapes, "s1", Value::NewMap());
  ASSERT_TRUE(shape.ok());
  ASSERT_TRUE(a.structure().MapSet(**shape, "x", Value::Int(5)).ok());
  auto label = a.structure().MapSet(**shape, "label", Value::NewText());
  ASSERT_TRUE(label.ok() && label->has_value());
  ASSERT_TRUE((*a.Text(**label))->Insert(0, "hello").ok());
  ContainerRef notes{true, ContainerKind::kText, "notes", {}};
  ASSERT_TRUE((*a.Text(notes))->Insert(0, "n\"1").ok());
  Sync(a, b);
  EXPECT_EQ(b.ToJson(), a.ToJson());
  // Concurrent edits of the shape's text on both sides.
  ASSERT_TRUE((*a.Text(**label))->Insert(5, " world").ok());
  auto b_label = b.Text(**label);
  ASSERT_TRUE(b_label.ok());
  ASSERT_TRUE((*b_label)->Insert(0, "\xC3\xA9 ").ok());
  ASSERT_TRUE(b.structure().MapSet(**shape, "x", Value::Int(7)).ok());
  Sync(a, b);
  Sync(b, a);
  EXPECT_EQ(a.ToJson(), b.ToJson());
  EXPECT_EQ(
      a.ToJson(),
      R"({"map:shapes":{"s1":{"label":"é hello world","x":7}},"text:notes":"n\"1"})");
  EXPECT_EQ(a.EncodeSnapshot(), b.EncodeSnapshot());
  auto loaded = Doc::LoadSnapshot(a.EncodeSnapshot(), 3);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->ToJson(), a.ToJson());
  EXPECT_EQ((*loaded)->EncodeSnapshot(), a.EncodeSnapshot());
}

TEST(DocTest, ApplyUpdateReportsWhatChanged) {
  Doc a(1), b(2);
  auto shapes = ContainerRef::RootMap("shapes");
  auto shape = a.structure().MapSet(shapes, "s1", Value::NewMap());
  ASSERT_TRUE(shape.ok());
  auto label = a.structure().MapSet(**shape, "label", Value::NewText());
  ASSERT_TRUE(label.ok() && label->has_value());
  ASSERT_TRUE((*a.Text(**label))->Insert(0, "hi").ok());
  std::vector<StructChange> changes;
  auto diff = a.EncodeDiff(b.EncodeStateVector());
  ASSERT_TRUE(diff.ok());
  ASSERT_TRUE(b.ApplyUpdate(*diff, &changes).ok());
  auto has = [&](const ContainerRef& c, const std::string& key) {
    for (const auto& ch : changes) {
      if (ch.container == c && ch.key == key) return true;
    }
    return false;
  };
  EXPECT_TRUE(has(shapes, "s1"));
  EXPECT_TRUE(has(**shape, "label"));
  EXPECT_TRUE(has(**label, ""));  // the text's content
  // The same update again changes nothing and reports nothing.
  changes.clear();
  ASSERT_TRUE(b.ApplyUpdate(*diff, &changes).ok());
  EXPECT_TRUE(changes.empty());
  // Only the text changes: only the text is reported.
  auto before = b.EncodeStateVector();
  ASSERT_TRUE((*a.Text(**label))->Insert(2, "!").ok());
  diff = a.EncodeDiff(before);
  ASSERT_TRUE(diff.ok());
  ASSERT_TRUE(b.ApplyUpdate(*diff, &changes).ok());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].container, **label);
}

// A text is reported when its content changes by a delete alone, and when
// its update arrived before the container and is applied once it exists.
TEST(DocTest, ApplyUpdateReportsDeletesAndTextsThatWaitedForTheirContainer) {
  Doc a(1), b(2);
  auto shapes = ContainerRef::RootMap("shapes");
  const std::string sv0 = b.EncodeStateVector();
  auto shape = a.structure().MapSet(shapes, "s1", Value::NewMap());
  ASSERT_TRUE(shape.ok());
  auto label = a.structure().MapSet(**shape, "label", Value::NewText());
  ASSERT_TRUE(label.ok() && label->has_value());
  auto created = a.EncodeDiff(sv0);
  ASSERT_TRUE(created.ok());
  const std::string sv1 = a.EncodeStateVector();
  ASSERT_TRUE((*a.Text(**label))->Insert(0, "hey").ok());
  auto typed = a.EncodeDiff(sv1);
  ASSERT_TRUE(typed.ok());
  std::vector<StructChange> changes;
  // The typing first: its text does not exist on b yet, nothing changes.
  ASSERT_TRUE(b.ApplyUpdate(*typed, &changes).ok());
  EXPECT_TRUE(changes.empty());
  // The container arrives, and the waiting text with it.
  ASSERT_TRUE(b.ApplyUpdate(*created, &changes).ok());
  auto reported = [&](const ContainerRef& c) {
    for (const auto& ch : changes) {
      if (ch.container == c && ch.key.empty() && ch.item == OpId{}) return true;
    }
    return false;
  };
  EXPECT_TRUE(reported(**label));
  EXPECT_EQ(b.ToJson(), a.ToJson());
  // A delete alone.
  const std::string sv2 = b.EncodeStateVector();
  ASSERT_TRUE((*a.Text(**label))->Delete(0, 1).ok());
  auto deleted = a.EncodeDiff(sv2);
  ASSERT_TRUE(deleted.ok());
  changes.clear();
  ASSERT_TRUE(b.ApplyUpdate(*deleted, &changes).ok());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_TRUE(reported(**label));
  EXPECT_EQ(b.ToJson(), a.ToJson());
}

TEST(DocTest, OpCountIsDensePerClientOverAllParts) {
  Doc a(1), b(2);
  EXPECT_EQ(a.OpCount(1), 0u);
  auto shapes = ContainerRef::RootMap("shapes");
  auto shape = a.structure().MapSet(shapes, "s1", Value::NewMap());
  ASSERT_TRUE(shape.ok());
  auto label = a.structure().MapSet(**shape, "label", Value::NewText());
  ASSERT_TRUE(label.ok() && label->has_value());
  uint64_t before_text = a.OpCount(1);
  EXPECT_EQ(before_text, 2u);
  ASSERT_TRUE((*a.Text(**label))->Insert(0, "abc").ok());
  EXPECT_EQ(a.OpCount(1), before_text + 3);
  Sync(a, b);
  EXPECT_EQ(b.OpCount(1), a.OpCount(1));
  EXPECT_EQ(b.OpCount(2), 0u);
  ASSERT_TRUE(b.structure().MapSet(**shape, "x", Value::Int(1)).ok());
  EXPECT_EQ(b.OpCount(2), 1u);
  auto counts = b.OpCounts();
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[1], 5u);
  EXPECT_EQ(b.TotalOpCount(), counts[1] + counts[2]);
}

// What a client sends per local change: the update of its own operations
// since its own state vector (which lists only it), the same bytes as the
// diff since the document's whole state vector, over the structure, a new
// nested text and a root text.
TEST(DocTest, AClientDiffIsTheDiffSinceTheEditStarted) {
  Doc a(50), other(3);
  auto shapes = ContainerRef::RootMap("shapes");
  ContainerRef notes{true, ContainerKind::kText, "notes", {}};
  ASSERT_TRUE((*other.Text(notes))->Insert(0, "shared").ok());
  ASSERT_TRUE(other.structure().MapSet(shapes, "k", Value::Int(1)).ok());
  Sync(other, a);
  Doc b(4);
  Sync(a, b);
  std::string own = a.EncodeClientStateVector(50);
  std::string whole = a.EncodeStateVector();
  EXPECT_LT(own.size(), whole.size());
  auto shape = a.structure().MapSet(shapes, "s1", Value::NewMap());
  ASSERT_TRUE(shape.ok());
  auto label = a.structure().MapSet(**shape, "label", Value::NewText());
  ASSERT_TRUE(label.ok() && label->has_value());
  ASSERT_TRUE((*a.Text(**label))->Insert(0, "hi").ok());
  ASSERT_TRUE((*a.Text(notes))->Insert(3, "ö").ok());
  auto update = a.EncodeClientDiff(50, own);
  auto expected = a.EncodeDiff(whole);
  ASSERT_TRUE(update.ok() && expected.ok());
  EXPECT_EQ(*update, *expected);
  ASSERT_TRUE(b.ApplyUpdate(*update).ok());
  EXPECT_EQ(b.ToJson(), a.ToJson());
  // A second change, from the state vector after the first.
  own = a.EncodeClientStateVector(50);
  whole = a.EncodeStateVector();
  ASSERT_TRUE((*a.Text(**label))->Delete(0, 1).ok());
  update = a.EncodeClientDiff(50, own);
  expected = a.EncodeDiff(whole);
  ASSERT_TRUE(update.ok() && expected.ok());
  EXPECT_EQ(*update, *expected);
  ASSERT_TRUE(b.ApplyUpdate(*update).ok());
  EXPECT_EQ(b.ToJson(), a.ToJson());
  EXPECT_EQ(a.TotalOpCount(), b.TotalOpCount());
  EXPECT_EQ(a.OpCount(50), 6u);
  EXPECT_EQ(a.EncodeClientDiff(50, "\x01\x07").status().code(),
            StatusCode::kCorruption);
}

// OpCount and TotalOpCount are kept as texts gain operations; OpCounts()
// still walks every state vector, so it is the reference.
void ExpectCountsAgree(const Doc& d) {
  uint64_t total = 0;
  for (const auto& [client, n] : d.OpCounts()) {
    EXPECT_EQ(d.OpCount(client), n) << "client " << client;
    total += n;
  }
  EXPECT_EQ(d.TotalOpCount(), total);
}

// Three replicas create labelled shapes and type into labels and root
// texts in no particular order (so a client's texts gain its first
// operations out of the document's text order, and a change may span
// several texts), each change delivered to
// the others at random, late and twice (so text updates wait for their
// container). After every step the kept counts agree with the state
// vectors and each change equals the diff since the whole state vector;
// at the end everything converges, also through snapshots.
TEST(DocTest, KeptCountsAndClientDiffsHoldUnderRandomDelivery) {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    uint64_t state = seed;  // splitmix64 (src/core has no <random>)
    auto pick = [&](size_t n) {
      uint64_t z = (state += 0x9E3779B97F4A7C15ull);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      return static_cast<size_t>((z ^ (z >> 31)) % n);
    };
    std::vector<std::unique_ptr<Doc>> docs;
    for (uint64_t c = 11; c <= 13; ++c)
      docs.push_back(std::make_unique<Doc>(c));
    std::vector<ContainerRef> texts = {
        {true, ContainerKind::kText, "notes", {}},
        {true, ContainerKind::kText, "title", {}}};
    std::vector<std::vector<std::string>> inbox(docs.size());
    auto shapes = ContainerRef::RootMap("shapes");
    for (int step = 0; step < 150; ++step) {
      const size_t r = pick(docs.size());
      Doc& d = *docs[r];
      const std::string own = d.EncodeClientStateVector(d.client_id());
      const std::string whole = d.EncodeStateVector();
      if (!inbox[r].empty() && pick(3) == 0) {  // deliver a waiting change
        const size_t m = pick(inbox[r].size());
        ASSERT_TRUE(d.ApplyUpdate(inbox[r][m]).ok());
        if (pick(3) != 0) inbox[r].erase(inbox[r].begin() + m);  // else again
        ExpectCountsAgree(d);
        continue;
      }
      // A local change of one to three edits, in any of the texts.
      for (size_t e = 1 + pick(3); e > 0; --e) {
        if (pick(4) == 0) {
          auto label = d.structure().MapSet(
              shapes, "s" + std::to_string(texts.size()), Value::NewText());
          ASSERT_TRUE(label.ok() && label->has_value());
          texts.push_back(**label);
          continue;
        }
        auto text = d.Text(texts[pick(texts.size())]);
        if (!text.ok()) continue;  // its container has not reached d yet
        TextDoc& t = **text;
        if (t.length() > 0 && pick(4) == 0) {
          ASSERT_TRUE(t.Delete(pick(t.length()), 1).ok());
        } else {
          ASSERT_TRUE(
              t.Insert(pick(t.length() + 1), pick(2) ? "ab" : "é").ok());
        }
      }
      auto change = d.EncodeClientDiff(d.client_id(), own);
      auto expected = d.EncodeDiff(whole);
      ASSERT_TRUE(change.ok() && expected.ok());
      ASSERT_EQ(*change, *expected);
      for (size_t o = 0; o < docs.size(); ++o) {
        if (o != r) inbox[o].push_back(*change);
      }
      ExpectCountsAgree(d);
    }
    for (size_t r = 0; r < docs.size(); ++r) {
      for (const std::string& u : inbox[r]) {
        ASSERT_TRUE(docs[r]->ApplyUpdate(u).ok());
      }
      EXPECT_EQ(docs[r]->pending_texts(), 0u);
      ExpectCountsAgree(*docs[r]);
    }
    for (size_t r = 1; r < docs.size(); ++r) {
      EXPECT_EQ(docs[r]->ToJson(), docs[0]->ToJson());
      EXPECT_EQ(docs[r]->OpCounts(), docs[0]->OpCounts());
    }
    auto loaded = Doc::LoadSnapshot(docs[0]->EncodeSnapshot(), 12);
    ASSERT_TRUE(loaded.ok());
    ExpectCountsAgree(**loaded);
    EXPECT_EQ((*loaded)->OpCounts(), docs[0]->OpCounts());
    // The loaded replica's own change still equals the whole diff.
    const std::string own = (*loaded)->EncodeClientStateVector(12);
    const std::string whole = (*loaded)->EncodeStateVector();
    ASSERT_TRUE((*(*loaded)->Text(texts[0]))->Insert(0, "z").ok());
    EXPECT_EQ(*(*loaded)->EncodeClientDiff(12, own),
              *(*loaded)->EncodeDiff(whole));
    ExpectCountsAgree(**loaded);
  }
}

TEST(DocTest, TextUpdatesWaitForTheirContainer) {
  Doc a(1), b(2);
  auto m = ContainerRef::RootMap("m");
  auto t = a.structure().MapSet(m, "t", Value::NewText());
  ASSERT_TRUE(t.ok());
  std::string before_text = a.EncodeStateVector();
  ASSERT_TRUE((*a.Text(**t))->Insert(0, "abc").ok());
  // Deliver only the text part first: craft it from a diff against a
  // state vector that already has the structure.
  Doc c(3);
  Sync(a, c);  // c has everything
  auto text_only = a.EncodeDiff(before_text);
  ASSERT_TRUE(text_only.ok());
  // b lacks the structure op, so the text update must wait.
  Doc fresh(4);
  ASSERT_TRUE(fresh.ApplyUpdate(*text_only).ok());
  EXPECT_EQ(fresh.pending_texts(), 1u);
  Sync(a, fresh);
  EXPECT_EQ(fresh.pending_texts(), 0u);
  EXPECT_EQ(fresh.ToJson(), a.ToJson());
  EXPECT_EQ(c.ToJson(), a.ToJson());
  EXPECT_EQ(a.Text(ContainerRef{false, ContainerKind::kText, {}, {9, 9}})
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST(DocTest, RejectsGarbage) {
  Doc d(1);
  for (std::string bad :
       {std::string(), std::string("\x01\x06"), std::string("\x01\x07\x00"),
        std::string("\x01\x06\x00\x01\x05", 5), std::string(64, '\xFF')}) {
    EXPECT_FALSE(d.ApplyUpdate(bad).ok());
    EXPECT_FALSE(d.EncodeDiff(bad).ok());
    EXPECT_FALSE(Doc::LoadSnapshot(bad, 2).ok());
  }
  EXPECT_EQ(d.ToJson(), "{}");
}

}  // namespace
}  // namespace weft::core
