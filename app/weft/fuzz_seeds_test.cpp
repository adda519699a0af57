// Seeds for the fuzz targets whose inputs tests/vectors does not cover
// (tests/fuzz-seeds/TARGET/NAME, passed to TARGET beside tests/vectors by
// fuzz/CMakeLists.txt): state vectors, board (StructDoc) updates and
// snapshots, Doc updates, snapshots and state vectors. Without them those
// targets mostly mutated text updates, which their decoders refuse at the
// kind byte, so their deeper code was rarely reached.
//
// Each committed seed must be what the generator writes now and must be
// accepted by its decoder (a seed refused at once teaches the fuzzer
// nothing). WEFT_WRITE_FUZZ_SEEDS=DIR writes them into DIR:
//   WEFT_WRITE_FUZZ_SEEDS=$PWD/tests/fuzz-seeds build/release/app/trace_test
//   --gtest_filter=FuzzSeedsTest.*
// This test lives in app/ because src/core may not read files.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "core/doc.h"
#include "core/struct_doc.h"
#include "core/text_doc.h"

namespace weft::core {
namespace {

namespace fs = std::filesystem;

// target -> seed name -> bytes.
using Seeds = std::map<std::string, std::map<std::string, std::string>>;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A board edited by two replicas: every value type, nested containers,
// list moves, sets and deletes, a map key deleted, concurrent writes.
void AddStructSeeds(Seeds* seeds) {
  StructDoc a(0x5151), b(0x5252);
  const ContainerRef root = ContainerRef::RootMap("board");
  EXPECT_TRUE(a.MapSet(root, "title", Value::String("Plan")).ok());
  EXPECT_TRUE(a.MapSet(root, "done", Value::Bool(false)).ok());
  EXPECT_TRUE(a.MapSet(root, "count", Value::Int(-42)).ok());
  EXPECT_TRUE(a.MapSet(root, "ratio", Value::Double(0.5)).ok());
  EXPECT_TRUE(a.MapSet(root, "gone", Value::Null()).ok());
  auto list = a.MapSet(root, "cards", Value::NewList());
  EXPECT_TRUE(list.ok() && list->has_value());
  auto c1 = a.ListInsert(**list, 0, Value::String("one"));
  auto c2 = a.ListInsert(**list, 1, Value::NewMap());
  auto c3 = a.ListInsert(**list, 2, Value::Int(3));
  EXPECT_TRUE(c1.ok() && c2.ok() && c3.ok());
  const std::string first = a.EncodeDiff({});
  EXPECT_TRUE(b.ApplyUpdate(first).ok());
  StateVector shared = a.GetStateVector();
  EXPECT_TRUE(a.ListMove(**list, *c1, 2).ok());
  EXPECT_TRUE(a.ListSet(**list, *c3, Value::String("three")).ok());
  EXPECT_TRUE(a.MapDelete(root, "gone").ok());
  EXPECT_TRUE(b.ListDelete(**list, *c2).ok());
  EXPECT_TRUE(b.MapSet(root, "title", Value::String("Plan B")).ok());
  EXPECT_TRUE(b.ListInsert(ContainerRef::RootList("log"), 0,
                           Value::String("caf\xC3\xA9"))
                  .ok());
  const std::string from_a = a.EncodeDiff(shared);
  const std::string from_b = b.EncodeDiff(shared);
  EXPECT_TRUE(a.ApplyUpdate(from_b).ok());
  EXPECT_TRUE(b.ApplyUpdate(from_a).ok());
  auto& s = (*seeds)["fuzz_struct_update"];
  s["board.0.update"] = first;
  s["board.1.update"] = from_a;
  s["board.2.update"] = from_b;
  s["board.snapshot"] = a.EncodeSnapshot();
}

// A document with texts in a map and in a list, edited by two replicas.
void AddDocSeeds(Seeds* seeds) {
  Doc a(0x6161), b(0x6262);
  const ContainerRef root = ContainerRef::RootMap("doc");
  auto body = a.structure().MapSet(root, "body", Value::NewText());
  EXPECT_TRUE(body.ok() && body->has_value());
  EXPECT_TRUE((*a.Text(**body))->Insert(0, "hello world").ok());
  auto notes = a.structure().MapSet(root, "notes", Value::NewList());
  EXPECT_TRUE(notes.ok() && notes->has_value());
  EXPECT_TRUE(a.structure().ListInsert(**notes, 0, Value::NewText()).ok());
  auto first = a.EncodeDiff(Doc(0x7070).EncodeStateVector());
  EXPECT_TRUE(first.ok());
  EXPECT_TRUE(b.ApplyUpdate(*first).ok());
  const std::string shared = a.EncodeStateVector();
  EXPECT_TRUE((*a.Text(**body))->Insert(5, ",").ok());
  EXPECT_TRUE((*b.Text(**body))->Delete(0, 6).ok());
  EXPECT_TRUE(b.structure().MapSet(root, "title", Value::String("t")).ok());
  auto from_a = a.EncodeDiff(shared);
  auto from_b = b.EncodeDiff(shared);
  EXPECT_TRUE(from_a.ok() && from_b.ok());
  EXPECT_TRUE(a.ApplyUpdate(*from_b).ok());
  auto& s = (*seeds)["fuzz_doc"];
  s["doc.0.update"] = *first;
  s["doc.1.update"] = *from_a;
  s["doc.2.update"] = *from_b;
  s["doc.snapshot"] = a.EncodeSnapshot();
  s["doc.state-vector"] = shared;
  s["doc-empty.state-vector"] = Doc(1).EncodeStateVector();
}

void AddStateVectorSeeds(Seeds* seeds) {
  auto& s = (*seeds)["fuzz_state_vector"];
  s["empty.state-vector"] = EncodeStateVector({});
  s["one.state-vector"] = EncodeStateVector({{7, 2}});
  s["several.state-vector"] =
      EncodeStateVector({{1, 1}, {7, 3}, {0x7FFFFFFF, 40}, {UINT64_MAX, 9}});
}

Seeds MakeSeeds() {
  Seeds seeds;
  AddStructSeeds(&seeds);
  AddDocSeeds(&seeds);
  AddStateVectorSeeds(&seeds);
  return seeds;
}

fs::path SeedDir() {
  return fs::path(WEFT_SOURCE_DIR) / "tests" / "fuzz-seeds";
}

// What each target's decoder does with a seed: OK if it is accepted.
Status Accepts(const std::string& target, const std::string& name,
               const std::string& bytes) {
  const bool snapshot = name.ends_with(".snapshot");
  const bool state_vector = name.ends_with(".state-vector");
  if (target == "fuzz_struct_update") {
    if (snapshot) return StructDoc::LoadSnapshot(bytes, 9).status();
    return StructDoc(9).ApplyUpdate(bytes).status();
  }
  if (target == "fuzz_doc") {
    if (snapshot) return Doc::LoadSnapshot(bytes, 9).status();
    if (state_vector) return Doc(9).EncodeDiff(bytes).status();
    return Doc(9).ApplyUpdate(bytes);
  }
  if (target == "fuzz_state_vector") return DecodeStateVector(bytes).status();
  return Status::InvalidArgument("unknown target " + target);
}

TEST(FuzzSeedsTest, CommittedSeedsAreTheGeneratorsAndDecode) {
  if (const char* dir = std::getenv("WEFT_WRITE_FUZZ_SEEDS")) {
    for (const auto& [target, files] : MakeSeeds()) {
      fs::create_directories(fs::path(dir) / target);
      for (const auto& [name, bytes] : files) {
        std::ofstream(fs::path(dir) / target / name, std::ios::binary) << bytes;
      }
    }
  }
  int seen = 0;
  for (const auto& [target, files] : MakeSeeds()) {
    for (const auto& [name, bytes] : files) {
      SCOPED_TRACE(target + "/" + name);
      const fs::path file = SeedDir() / target / name;
      ASSERT_TRUE(fs::exists(file)) << "regenerate the seeds (see above)";
      EXPECT_EQ(ReadFile(file), bytes);
      Status s = Accepts(target, name, bytes);
      EXPECT_TRUE(s.ok()) << s.ToString();
      ++seen;
    }
  }
  EXPECT_GE(seen, 10);
  // No stale seed is left behind the generator's back.
  for (const auto& target : fs::directory_iterator(SeedDir())) {
    for (const auto& e : fs::directory_iterator(target.path())) {
      SCOPED_TRACE(e.path().string());
      EXPECT_TRUE(MakeSeeds()[target.path().filename().string()].contains(
          e.path().filename().string()));
    }
  }
}

// Updates of one replica also apply in order on a fresh one and give its
// content: the seeds are one consistent history, not unrelated bytes.
TEST(FuzzSeedsTest, UpdateSeedsReplayToTheSnapshotsContent) {
  Seeds seeds = MakeSeeds();
  {
    auto& s = seeds["fuzz_struct_update"];
    StructDoc doc(9);
    for (const char* u :
         {"board.0.update", "board.1.update", "board.2.update"}) {
      ASSERT_TRUE(doc.ApplyUpdate(s[u]).ok()) << u;
    }
    auto loaded = StructDoc::LoadSnapshot(s["board.snapshot"], 10);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(doc.ToJson(), (*loaded)->ToJson());
    EXPECT_NE(doc.ToJson().find("three"), std::string::npos);
  }
  {
    auto& s = seeds["fuzz_doc"];
    Doc doc(9);
    for (const char* u : {"doc.0.update", "doc.1.update", "doc.2.update"}) {
      ASSERT_TRUE(doc.ApplyUpdate(s[u]).ok()) << u;
    }
    auto loaded = Doc::LoadSnapshot(s["doc.snapshot"], 10);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(doc.ToJson(), (*loaded)->ToJson());
    EXPECT_NE(doc.ToJson().find("world"), std::string::npos);
  }
}

}  // namespace
}  // namespace weft::core
