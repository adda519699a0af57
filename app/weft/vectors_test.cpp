// Shared vectors (tests/vectors/): encoded updates and snapshots with the
// text they must produce. Native and WASM tests replay the same files, and
// blobs written by older versions stay so new code must still decode them.
//
//   NAME.txt          expected text (UTF-8)
//   NAME.K.update     updates, applied to a fresh document in order K=0,1..
//   NAME.snapshot     snapshot that must load to the same text
//   NAME.v1.snapshot  the same snapshot in format version 1 (text after the
//                     spans), written before version 2; never regenerated
//   bad-NAME.update   must be rejected with kCorruption
//
// The generator runs in every test run, into a temporary directory, and what
// it writes must replay like the committed files. WEFT_WRITE_VECTORS=DIR
// writes into DIR instead (committed vectors are never rewritten silently):
//   WEFT_WRITE_VECTORS=$PWD/tests/vectors build/release/app/trace_test
//   --gtest_filter=VectorsTest.GeneratorWritesReplayableVectors
// This test lives in app/ because src/core may not read files.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include <unistd.h>

#include "core/text_doc.h"

namespace weft::core {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

// The scenarios behind the vectors; deterministic.
std::map<std::string, std::vector<std::string>> MakeVectors(
    std::map<std::string, std::string>* texts,
    std::map<std::string, std::string>* snapshots) {
  std::map<std::string, std::vector<std::string>> updates;
  {
    TextDoc a(0x1111);
    EXPECT_TRUE(a.Insert(0, "hello world").ok());
    EXPECT_TRUE(a.Delete(0, 6).ok());
    EXPECT_TRUE(a.Insert(5, "!").ok());
    updates["basic"] = {a.EncodeDiff({})};
    (*texts)["basic"] = a.Text();
    (*snapshots)["basic"] = a.EncodeSnapshot();
  }
  {
    TextDoc a(0x2222), b(0x3333);
    EXPECT_TRUE(a.Insert(0, "ab").ok());
    std::string u0 = a.EncodeDiff({});
    EXPECT_TRUE(b.ApplyUpdate(u0).ok());
    EXPECT_TRUE(a.Insert(1, "xxx").ok());
    EXPECT_TRUE(b.Insert(1, "yyy").ok());
    EXPECT_TRUE(b.Delete(0, 1).ok());
    std::string u1 = a.EncodeDiff(b.GetStateVector());
    std::string u2 = b.EncodeDiff(a.GetStateVector());
    EXPECT_TRUE(a.ApplyUpdate(u2).ok());
    updates["concurrent"] = {u0, u1, u2};
    (*texts)["concurrent"] = a.Text();
    (*snapshots)["concurrent"] = a.EncodeSnapshot();
  }
  {
    TextDoc a(0x4444);
    EXPECT_TRUE(a.Insert(0, "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE4\xB8\xAD").ok());
    StateVector first = a.GetStateVector();
    EXPECT_TRUE(a.Delete(5, 1).ok());
    EXPECT_TRUE(a.Insert(5, "\xE2\x82\xAC").ok());
    // Out of order on purpose: the second update waits for the first.
    updates["unicode-out-of-order"] = {a.EncodeDiff(first), a.EncodeDiff({})};
    (*texts)["unicode-out-of-order"] = a.Text();
    (*snapshots)["unicode-out-of-order"] = a.EncodeSnapshot();
  }
  return updates;
}

fs::path VectorDir() { return fs::path(WEFT_SOURCE_DIR) / "tests" / "vectors"; }

void WriteVectors(const fs::path& dir) {
  std::map<std::string, std::string> texts, snaps;
  auto updates = MakeVectors(&texts, &snaps);
  fs::create_directories(dir);
  for (const auto& [name, list] : updates) {
    for (size_t k = 0; k < list.size(); ++k) {
      WriteFile(fs::path(dir) / (name + "." + std::to_string(k) + ".update"),
                list[k]);
    }
    WriteFile(fs::path(dir) / (name + ".txt"), texts[name]);
    WriteFile(fs::path(dir) / (name + ".snapshot"), snaps[name]);
  }
  std::string good = updates["basic"][0];
  WriteFile(fs::path(dir) / "bad-truncated.update", good.substr(0, 7));
  WriteFile(fs::path(dir) / "bad-version.update", "\x09" + good.substr(1));
  // Insert 'a' (seq 0), delete it (seq 1), then insert 'b' whose left
  // origin is seq 1: a delete, not a character.
  const char origin_is_delete[] =
      "\x01\x01\x01\x05\x03"
      "\x00\x00\x01\x00\x00\x00\x01"
      "a"
      "\x00\x01\x01\x02\x01\x00"
      "\x00\x02\x01\x00\x01\x01\x00\x01"
      "b";
  WriteFile(fs::path(dir) / "bad-origin-is-delete.update",
            std::string(origin_is_delete, sizeof origin_is_delete - 1));
  // One run of 2^31 deleted characters: longer than a span can be (it
  // became a span of length 0, and the document no longer reloaded).
  const char run_too_long[] =
      "\x01\x01\x01\x05\x01\x00\x00\x80\x80\x80\x80\x08\x01\x00\x00";
  WriteFile(fs::path(dir) / "bad-run-too-long.update",
            std::string(run_too_long, sizeof run_too_long - 1));
}

// Every NAME.txt in `dir`: its updates and its snapshot give that text.
void ExpectVectorsDecode(const fs::path& dir) {
  int seen = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".txt") continue;
    std::string name = e.path().stem().string();
    SCOPED_TRACE(name);
    std::string want = ReadFile(e.path());
    TextDoc doc(0xABCDEF);
    for (int k = 0;; ++k) {
      fs::path u = dir / (name + "." + std::to_string(k) + ".update");
      if (!fs::exists(u)) break;
      auto r = doc.ApplyUpdate(ReadFile(u));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    EXPECT_EQ(doc.Text(), want);
    EXPECT_EQ(doc.pending_runs(), 0u);
    for (const char* suffix : {".snapshot", ".v1.snapshot"}) {
      SCOPED_TRACE(suffix);
      const fs::path file = dir / (name + suffix);
      // The generator writes the current version only.
      if (std::string(suffix) != ".snapshot" && !fs::exists(file)) continue;
      const std::string bytes = ReadFile(file);
      auto loaded = TextDoc::LoadSnapshot(bytes, 5);
      ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
      EXPECT_EQ((*loaded)->Text(), want);
      EXPECT_EQ((*loaded)->EncodeSnapshot(), doc.EncodeSnapshot());
      auto peeked = TextDoc::PeekSnapshotText(bytes);
      ASSERT_TRUE(peeked.ok()) << peeked.status().ToString();
      EXPECT_EQ(peeked->utf8, want);
      EXPECT_EQ(peeked->length, doc.length());
    }
    ++seen;
  }
  EXPECT_GE(seen, 3);
}

// The encoders must keep writing the committed bytes: diffs rebuild insert
// runs from the tree's spans, and a change there would show up here first.
TEST(VectorsTest, EncodersWriteTheCommittedBytes) {
  fs::path dir = VectorDir();
  ASSERT_TRUE(fs::is_directory(dir)) << dir.string();
  std::map<std::string, std::string> texts, snaps;
  auto updates = MakeVectors(&texts, &snaps);
  for (const auto& [name, list] : updates) {
    SCOPED_TRACE(name);
    for (size_t k = 0; k < list.size(); ++k) {
      EXPECT_EQ(list[k],
                ReadFile(dir / (name + "." + std::to_string(k) + ".update")))
          << "update " << k;
    }
    EXPECT_EQ(snaps[name], ReadFile(dir / (name + ".snapshot")));
  }
}

// Every bad-*.update in `dir` is refused with kCorruption.
void ExpectBadVectorsRejected(const fs::path& dir) {
  int seen = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string file = e.path().filename().string();
    if (!file.starts_with("bad-")) continue;
    SCOPED_TRACE(file);
    TextDoc doc(1);
    auto r = doc.ApplyUpdate(ReadFile(e.path()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_EQ(doc.Text(), "");
    EXPECT_TRUE(doc.CheckInvariants().ok());
    ++seen;
  }
  EXPECT_GE(seen, 3);
}

TEST(VectorsTest, CommittedVectorsDecode) {
  ASSERT_TRUE(fs::is_directory(VectorDir())) << VectorDir().string();
  ExpectVectorsDecode(VectorDir());
}

TEST(VectorsTest, BadVectorsAreRejected) {
  ASSERT_TRUE(fs::is_directory(VectorDir())) << VectorDir().string();
  ExpectBadVectorsRejected(VectorDir());
}

TEST(VectorsTest, GeneratorWritesReplayableVectors) {
  const char* asked = std::getenv("WEFT_WRITE_VECTORS");
  fs::path dir = asked != nullptr
                     ? fs::path(asked)
                     : fs::temp_directory_path() /
                           ("weft-vectors-" + std::to_string(::getpid()));
  WriteVectors(dir);
  ExpectVectorsDecode(dir);
  ExpectBadVectorsRejected(dir);
  if (asked == nullptr) fs::remove_all(dir);
}

}  // namespace
}  // namespace weft::core
