#include "core/struct_doc.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/struct_update_for_test.h"

namespace weft::core {
namespace {

void Sync(StructDoc& from, StructDoc& to) {
  auto r = to.ApplyUpdate(from.EncodeDiff(to.GetStateVector()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

// A board that many people have edited: one more change names only the
// clients it uses (its own, and the nested map's creator), and applies.
TEST(StructDocTest, AnUpdateNamesOnlyTheClientsItUses) {
  StructDoc doc(1);
  auto shapes = ContainerRef::RootMap("shapes");
  auto shape = doc.MapSet(shapes, "s", Value::NewMap());
  ASSERT_TRUE(shape.ok() && shape->has_value());
  for (uint64_t c = 2; c < 52; ++c) {
    StructDoc writer(c);
    ASSERT_TRUE(
        writer.MapSet(shapes, "k" + std::to_string(c), Value::Int(1)).ok());
    Sync(writer, doc);
  }
  StructDoc replica(99);
  Sync(doc, replica);
  StateVector before = doc.GetStateVector();
  StructDoc other(53);
  Sync(doc, other);
  ASSERT_TRUE(other.MapSet(**shape, "x", Value::Int(5)).ok());
  std::string update = other.EncodeDiff(before);
  // version, kind, then the table's length (a one-byte varint here).
  ASSERT_GT(update.size(), 3u);
  EXPECT_EQ(static_cast<uint8_t>(update[2]), 2);  // clients 1 and 53
  ASSERT_TRUE(replica.ApplyUpdate(update).ok());
  Sync(other, doc);
  EXPECT_EQ(replica.ToJson(), doc.ToJson());
  EXPECT_EQ(static_cast<uint8_t>(doc.EncodeDiff({})[2]), 52);
}

// A local edit's update from its own client's range is the same bytes as
// the diff since the edit started, and the op counts follow every op.
TEST(StructDocTest, AClientDiffIsTheDiffSinceTheEditStarted) {
  StructDoc doc(60);
  auto shapes = ContainerRef::RootMap("shapes");
  auto tasks = ContainerRef::RootList("tasks");
  for (uint64_t c = 2; c < 30; ++c) {
    StructDoc writer(c);
    ASSERT_TRUE(
        writer.MapSet(shapes, "k" + std::to_string(c), Value::Int(1)).ok());
    ASSERT_TRUE(writer.ListInsert(tasks, 0, Value::Int(2)).ok());
    Sync(writer, doc);
  }
  EXPECT_EQ(doc.TotalOpCount(), 56u);
  EXPECT_EQ(doc.OpCount(60), 0u);
  StructDoc replica(99);
  Sync(doc, replica);
  StateVector before = doc.GetStateVector();
  auto first = static_cast<uint32_t>(doc.OpCount(60));
  auto shape = doc.MapSet(shapes, "s", Value::NewMap());
  ASSERT_TRUE(shape.ok() && shape->has_value());
  ASSERT_TRUE(doc.MapSet(**shape, "x", Value::Int(5)).ok());
  auto items = doc.ListItems(tasks);
  ASSERT_EQ(items.size(), 28u);
  ASSERT_TRUE(doc.ListMove(tasks, items[3].id, 20).ok());
  ASSERT_TRUE(doc.ListDelete(tasks, items[7].id).ok());
  EXPECT_EQ(doc.OpCount(60), 4u);
  EXPECT_EQ(doc.TotalOpCount(), 60u);
  std::string update = doc.EncodeClientDiff(60, first);
  EXPECT_EQ(update, doc.EncodeDiff(before));
  ASSERT_TRUE(replica.ApplyUpdate(update).ok());
  EXPECT_EQ(replica.ToJson(), doc.ToJson());
  EXPECT_EQ(doc.EncodeClientDiff(60, 4), doc.EncodeDiff(doc.GetStateVector()));
  EXPECT_EQ(doc.EncodeClientDiff(12345, 0),
            doc.EncodeDiff(doc.GetStateVector()));
}

// Appends and prepends in order, on another replica too (the keys they
// draw: FractionalIndexTest.AppendsAndPrependsKeepKeysShort).
TEST(StructDocTest, AppendsAndPrependsKeepTheirOrderOnEveryReplica) {
  StructDoc a(1), b(2);
  auto strokes = ContainerRef::RootList("strokes");
  std::size_t size = 0;
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(a.ListInsert(strokes, size++, Value::Int(i)).ok()) << i;
    if (i % 4 == 0) {
      ASSERT_TRUE(a.ListInsert(strokes, 0, Value::Int(-i)).ok());
      ++size;
    }
  }
  Sync(a, b);
  auto items = b.ListItems(strokes);
  ASSERT_EQ(items.size(), 2500u);
  EXPECT_EQ(items.front().value, Value::Int(-1996));
  EXPECT_EQ(items[499].value, Value::Int(0));
  EXPECT_EQ(items.back().value, Value::Int(1999));
  EXPECT_EQ(a.ToJson(), b.ToJson());
}

// Placing items at one spot over and over grows that spot's keys (a
// character every few moves): once one would pass the decoder's limit
// the edit is refused here, as an error, and nothing another replica
// would refuse is made. (Two items moved in turn next to a third.)
TEST(StructDocTest, AMoveWhoseKeyWouldBeTooLongIsRefusedLocally) {
  StructDoc a(1), b(2);
  auto list = ContainerRef::RootList("l");
  auto first = a.ListInsert(list, 0, Value::Int(0));
  auto x = a.ListInsert(list, 1, Value::Int(1));
  auto y = a.ListInsert(list, 2, Value::Int(2));
  ASSERT_TRUE(first.ok() && x.ok() && y.ok());
  Status refused;
  for (int i = 0; i < 20000 && refused.ok(); ++i) {
    refused = a.ListMove(list, i % 2 ? *x : *y, 1);
  }
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted)
      << refused.ToString();
  Sync(a, b);
  EXPECT_EQ(a.ToJson(), b.ToJson());
}

// A refused insert into a list that does not exist leaves no empty list
// behind on this replica alone.
TEST(StructDocTest, ARefusedInsertCreatesNoRootList) {
  StructDoc a(1);
  EXPECT_FALSE(
      a.ListInsert(ContainerRef::RootList("x"), 3, Value::Int(1)).ok());
  EXPECT_FALSE(a.ListMove(ContainerRef::RootList("y"), OpId{1, 0}, 0).ok());
  EXPECT_EQ(a.ToJson(), "{}");
}

// Containers nest up to 64 deep; deeper is refused (rendering recursed
// per level: a long enough chain overflowed the server's stack).
TEST(StructDocTest, ContainersNestAtMost64Deep) {
  StructDoc a(1), b(2);
  ContainerRef at = ContainerRef::RootMap("m");
  for (int depth = 1; depth <= 64; ++depth) {
    auto next = a.MapSet(at, "a", Value::NewMap());
    ASSERT_TRUE(next.ok() && next->has_value()) << depth;
    at = **next;
  }
  auto deeper = a.MapSet(at, "a", Value::NewList());
  EXPECT_EQ(deeper.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(a.MapSet(at, "a", Value::Int(1)).ok());  // values still go in
  Sync(a, b);
  std::string json = b.ToJson();
  EXPECT_EQ(json, a.ToJson());
  EXPECT_NE(json.find(R"({"a":1})"), std::string::npos);
}

// Two clients nesting in each other's containers in turn: each op waits
// for the other client's previous one. One update with all of them, or
// the two clients' ops in either order, gives the same document (ops are
// tried in id order and wait under the id they need).
TEST(StructDocTest, OpsWaitingOnEachOtherAcrossClientsIntegrate) {
  StructDoc a(1), b(2);
  ContainerRef at = ContainerRef::RootMap("m");
  for (int depth = 1; depth <= 60; ++depth) {
    StructDoc& writer = depth % 2 ? a : b;
    StructDoc& reader = depth % 2 ? b : a;
    auto next = writer.MapSet(at, "k", Value::NewMap());
    ASSERT_TRUE(next.ok() && next->has_value()) << depth;
    ASSERT_TRUE(writer.MapSet(at, "by", Value::Int(depth)).ok());
    at = **next;
    Sync(writer, reader);
  }
  const std::string want = a.ToJson();
  ASSERT_EQ(b.ToJson(), want);
  StructDoc whole(3);
  ASSERT_TRUE(whole.ApplyUpdate(a.EncodeDiff({})).ok());
  EXPECT_EQ(whole.ToJson(), want);
  EXPECT_EQ(whole.pending_ops(), 0u);
  for (uint64_t first : {1, 2}) {
    StructDoc split(4);
    for (uint64_t client : {first, 3 - first}) {
      ASSERT_TRUE(split.ApplyUpdate(a.EncodeClientDiff(client, 0)).ok());
    }
    EXPECT_EQ(split.ToJson(), want) << "client " << first << " first";
    EXPECT_EQ(split.pending_ops(), 0u);
  }
}

// Names, keys and string values are UTF-8: local edits refuse other
// bytes. An update carrying them (a hostile client, another
// implementation) still applies, so that stored documents load; it is
// counted (the server refuses changes that raise the count) and renders
// with U+FFFD, so that ToJson stays valid JSON.
TEST(StructDocTest, StringsAreUtf8OrCountedAndRenderedValid) {
  StructDoc a(1);
  auto m = ContainerRef::RootMap("m");
  const std::string bad = "x\xC3(";
  EXPECT_EQ(a.MapSet(m, bad, Value::Int(1)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(a.MapSet(m, "k", Value::String(bad)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      a.MapSet(ContainerRef::RootMap(bad), "k", Value::Int(1)).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(a.ListInsert(ContainerRef::RootList("l"), 0, Value::String(bad))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(a.MapSet(m, std::string(65537, 'k'), Value::Int(1)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(a.OpCount(1), 0u);
  EXPECT_EQ(a.ToJson(), StructDoc(3).ToJson());

  // Client 9's op 0: m["k"] = "x\xC3(".
  const std::string update = RootMapSetStringUpdate(9, 0, 1, "m", "k", bad);
  StructDoc b(2);
  ASSERT_TRUE(b.ApplyUpdate(update).ok());
  EXPECT_EQ(b.OpCount(9), 1u);
  EXPECT_EQ(b.invalid_utf8_ops(), 1u);
  EXPECT_EQ(b.ToJson(), "{\"map:m\":{\"k\":\"x\xEF\xBF\xBD(\"}}");
  ASSERT_TRUE(b.MapSet(m, "j", Value::String("\xC3\xA9")).ok());
  EXPECT_EQ(b.invalid_utf8_ops(), 1u);
}

// Doubles render as JSON numbers that read back as themselves; NaN and
// infinities, which JSON lacks, as null (they printed as "nan", invalid
// JSON for every reader, and 1e-7 as 0.000000).
TEST(StructDocTest, DoublesRenderAsJsonThatReadsBack) {
  StructDoc a(1);
  auto m = ContainerRef::RootMap("m");
  ASSERT_TRUE(a.MapSet(m, "a", Value::Double(0.1)).ok());
  ASSERT_TRUE(a.MapSet(m, "b", Value::Double(1e-7)).ok());
  ASSERT_TRUE(a.MapSet(m, "c", Value::Double(1.0 / 3)).ok());
  ASSERT_TRUE(a.MapSet(m, "d", Value::Double(std::nan(""))).ok());
  ASSERT_TRUE(a.MapSet(m, "e", Value::Double(-1.0 / 0.0)).ok());
  ASSERT_TRUE(a.MapSet(m, "f", Value::Double(2.5)).ok());
  EXPECT_EQ(a.ToJson(), R"({"map:m":{"a":0.1,"b":1e-07,"c":0.3333333333333333,)"
                        R"("d":null,"e":null,"f":2.5}})");
}

TEST(StructDocTest, NestedMapsAndLists) {
  StructDoc d(1);
  auto shapes = ContainerRef::RootMap("shapes");
  auto s1 = d.MapSet(shapes, "s1", Value::NewMap());
  ASSERT_TRUE(s1.ok());
  ASSERT_TRUE(s1->has_value());
  ASSERT_TRUE(d.MapSet(**s1, "x", Value::Int(10)).ok());
  ASSERT_TRUE(d.MapSet(**s1, "fill", Value::String("red")).ok());
  auto tasks = ContainerRef::RootList("tasks");
  auto t1 = d.ListInsert(tasks, 0, Value::String("one"));
  auto t2 = d.ListInsert(tasks, 1, Value::String("two"));
  ASSERT_TRUE(t1.ok() && t2.ok());
  ASSERT_TRUE(d.ListMove(tasks, *t1, 1).ok());
  EXPECT_EQ(
      d.ToJson(),
      R"({"map:shapes":{"s1":{"fill":"red","x":10}},"list:tasks":["two","one"]})");
  ASSERT_TRUE(d.MapDelete(**s1, "fill").ok());
  ASSERT_TRUE(d.ListDelete(tasks, *t2).ok());
  EXPECT_EQ(d.ToJson(),
            R"({"map:shapes":{"s1":{"x":10}},"list:tasks":["one"]})");
  EXPECT_EQ(d.MapSet(ContainerRef{false, ContainerKind::kMap, {}, {9, 9}}, "k",
                     Value::Null())
                .status()
                .code(),
            StatusCode::kNotFound);

  auto loaded = StructDoc::LoadSnapshot(d.EncodeSnapshot(), 2);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->ToJson(), d.ToJson());
  EXPECT_EQ((*loaded)->EncodeSnapshot(), d.EncodeSnapshot());
}

TEST(StructDocTest, ConcurrentWritesPickOneWinnerEverywhere) {
  StructDoc a(1), b(2);
  auto m = ContainerRef::RootMap("m");
  ASSERT_TRUE(a.MapSet(m, "k", Value::Int(1)).ok());
  ASSERT_TRUE(b.MapSet(m, "k", Value::Int(2)).ok());
  Sync(a, b);
  Sync(b, a);
  EXPECT_EQ(a.ToJson(), b.ToJson());
  EXPECT_EQ(*a.MapGet(m, "k"), Value::Int(2));  // equal lamport: client 2
  EXPECT_EQ(a.EncodeSnapshot(), b.EncodeSnapshot());
}

TEST(StructDocTest, ConcurrentMovesNeverDuplicate) {
  StructDoc a(1), b(2);
  auto l = ContainerRef::RootList("col");
  std::vector<OpId> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(*a.ListInsert(l, i, Value::Int(i)));
  }
  Sync(a, b);
  ASSERT_TRUE(a.ListMove(l, ids[0], 3).ok());
  ASSERT_TRUE(b.ListMove(l, ids[0], 1).ok());
  ASSERT_TRUE(b.ListDelete(l, ids[2]).ok());
  Sync(a, b);
  Sync(b, a);
  EXPECT_EQ(a.ToJson(), b.ToJson());
  EXPECT_EQ(a.ListItems(l).size(), 3u);
}

TEST(StructDocTest, RejectsGarbageAndHoldsMissingDependencies) {
  StructDoc a(1), b(2);
  auto m = ContainerRef::RootMap("m");
  auto inner = a.MapSet(m, "inner", Value::NewMap());
  StateVector v1 = a.GetStateVector();
  ASSERT_TRUE(a.MapSet(**inner, "k", Value::Bool(true)).ok());
  ASSERT_TRUE(b.ApplyUpdate(a.EncodeDiff(v1)).ok());
  EXPECT_EQ(b.pending_ops(), 1u);
  ASSERT_TRUE(b.ApplyUpdate(a.EncodeDiff({})).ok());
  EXPECT_EQ(b.pending_ops(), 0u);
  EXPECT_EQ(b.ToJson(), a.ToJson());
  for (std::string bad :
       {std::string(), std::string("\x01\x04\x01"),
        std::string("\x01\x05\x00\x01", 4), std::string(300, '\x7F')}) {
    EXPECT_FALSE(b.ApplyUpdate(bad).ok());
    EXPECT_FALSE(StructDoc::LoadSnapshot(bad, 3).ok());
  }
  EXPECT_EQ(b.ToJson(), a.ToJson());
}

// 3-5 replicas, random map/list edits, random delivery with duplication
// and reordering; all converge to the same JSON and snapshot bytes.
RC_GTEST_PROP(StructDocTest, ReplicasConverge, ()) {
  const size_t n = *rc::gen::inRange<size_t>(3, 6);
  std::vector<std::unique_ptr<StructDoc>> reps;
  for (size_t i = 0; i < n; ++i) {
    reps.push_back(std::make_unique<StructDoc>(100 + i));
  }
  struct Msg {
    size_t to;
    std::string bytes;
  };
  std::vector<Msg> net;
  const auto steps = *rc::gen::inRange(10, 120);
  const char* const keys[] = {"a", "b", "\xC3\xA9t\xC3\xA9", "x"};
  for (int s = 0; s < steps; ++s) {
    size_t i = *rc::gen::inRange<size_t>(0, n);
    StructDoc& d = *reps[i];
    auto root = ContainerRef::RootMap("m");
    auto list = ContainerRef::RootList("l");
    switch (*rc::gen::inRange(0, 7)) {
      case 0:
        (void)d.MapSet(root, keys[*rc::gen::inRange(0, 4)],
                       Value::Int(*rc::gen::inRange(0, 100)));
        break;
      case 1:
        (void)d.MapDelete(root, keys[*rc::gen::inRange(0, 4)]);
        break;
      case 2: {
        size_t len = d.ListItems(list).size();
        (void)d.ListInsert(list, *rc::gen::inRange<size_t>(0, len + 1),
                           Value::String(keys[*rc::gen::inRange(0, 4)]));
        break;
      }
      case 3: {
        auto items = d.ListItems(list);
        if (items.empty()) break;
        OpId id = items[*rc::gen::inRange<size_t>(0, items.size())].id;
        if (*rc::gen::arbitrary<bool>()) {
          RC_ASSERT(
              d.ListMove(list, id, *rc::gen::inRange<size_t>(0, items.size()))
                  .ok());
        } else {
          RC_ASSERT(d.ListDelete(list, id).ok());
        }
        break;
      }
      case 4: {
        auto nested = d.MapGetContainer(root, "x");
        if (nested && nested->kind == ContainerKind::kMap) {
          RC_ASSERT(d.MapSet(*nested, "y", Value::Double(1.5)).ok());
        } else {
          RC_ASSERT(d.MapSet(root, "x", Value::NewMap()).ok());
        }
        break;
      }
      case 5: {
        size_t to = *rc::gen::inRange<size_t>(0, n);
        StateVector have = reps[to]->GetStateVector();
        if (*rc::gen::arbitrary<bool>()) have.clear();
        net.push_back({to, d.EncodeDiff(have)});
        break;
      }
      case 6: {
        if (net.empty()) break;
        size_t m = *rc::gen::inRange<size_t>(0, net.size());
        Msg msg = net[m];
        if (*rc::gen::arbitrary<bool>()) net.erase(net.begin() + m);
        RC_ASSERT(reps[msg.to]->ApplyUpdate(msg.bytes).ok());
        break;
      }
    }
  }
  for (int round = 0; round < 2; ++round) {
    for (size_t a = 0; a < n; ++a) {
      for (size_t b = 0; b < n; ++b) {
        if (a == b) continue;
        RC_ASSERT(
            reps[b]
                ->ApplyUpdate(reps[a]->EncodeDiff(reps[b]->GetStateVector()))
                .ok());
      }
    }
  }
  for (size_t a = 1; a < n; ++a) {
    RC_ASSERT(reps[a]->ToJson() == reps[0]->ToJson());
    RC_ASSERT(reps[a]->EncodeSnapshot() == reps[0]->EncodeSnapshot());
  }
  auto loaded = StructDoc::LoadSnapshot(reps[0]->EncodeSnapshot(), 999);
  RC_ASSERT(loaded.ok());
  RC_ASSERT((*loaded)->ToJson() == reps[0]->ToJson());
}

}  // namespace
}  // namespace weft::core
