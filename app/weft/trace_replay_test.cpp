// Replays the traces in tests/traces (small ones of our own, always there)
// and every trace under $WEFT_TRACES_DIR (default: ../shared/traces next to
// the repository, the editing traces, when present) and checks endContent.

#include "weft/trace_replay.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace weft::trace {
namespace {

namespace fs = std::filesystem;

// The trace files, sorted; `*outside` tells where the larger traces were
// looked for, and whether any were found there.
std::vector<fs::path> TraceFiles(std::string* outside) {
  const char* env = std::getenv("WEFT_TRACES_DIR");
  fs::path shared =
      env != nullptr && *env != '\0'
          ? fs::path(env)
          : fs::path(WEFT_SOURCE_DIR) / ".." / "shared" / "traces";
  std::vector<fs::path> files;
  auto add = [&](const fs::path& dir) {
    std::error_code ec;
    std::size_t before = files.size();
    if (!fs::is_directory(dir, ec)) return std::size_t{0};
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
      std::string name = e.path().filename().string();
      if (e.is_regular_file() &&
          (name.ends_with(".json.gz") || name.ends_with(".json"))) {
        files.push_back(e.path());
      }
    }
    return files.size() - before;
  };
  add(fs::path(WEFT_SOURCE_DIR) / "tests" / "traces");
  std::size_t more = add(shared);
  *outside = std::to_string(more) + " traces in " + shared.string();
  std::sort(files.begin(), files.end());
  return files;
}

TEST(TraceReplayTest, ParsesTheFormat) {
  auto t = ParseTrace(R"({"kind":"concurrent","endContent":"yoooo ho ho\n",
    "numAgents":2,"txns":[
    {"parents":[],"numChildren":1,"agent":0,"patches":[[0,0,"hi there\n"]]},
    {"parents":[0],"agent":0,"patches":[[0,8,""],[0,0,"yoooo"]]},
    {"parents":[1],"agent":1,"patches":[[5,0," ho ho"]]}]})");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->concurrent);
  ASSERT_EQ(t->txns.size(), 3u);
  EXPECT_EQ(t->txns[2].agent, 1u);
  auto doc = Replay(*t);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ((*doc)->Text(), "yoooo ho ho\n");
  EXPECT_FALSE(ParseTrace("{\"txns\":[").ok());
  EXPECT_FALSE(ParseTrace("{\"txns\":[{\"parents\":[3]}]}").ok());
  // An unknown key's value is skipped, but not 100,000 brackets deep (that
  // overflowed the stack).
  EXPECT_FALSE(ParseTrace("{\"x\":" + std::string(100000, '[') + "}").ok());
  EXPECT_TRUE(
      ParseTrace("{\"x\":[[[1]]],\"endContent\":\"\",\"txns\":[]}").ok());
}

TEST(TraceReplayTest, ConcurrentBranchesMerge) {
  // Two agents fork from "ab" and edit concurrently; a third txn merges.
  auto t =
      ParseTrace(R"({"kind":"concurrent","endContent":"XaYbZ","numAgents":2,
    "txns":[{"parents":[],"agent":0,"patches":[[0,0,"ab"]]},
            {"parents":[0],"agent":0,"patches":[[0,0,"X"]]},
            {"parents":[0],"agent":1,"patches":[[1,0,"Y"]]},
            {"parents":[1,2],"agent":1,"patches":[[4,0,"Z"]]}]})");
  ASSERT_TRUE(t.ok());
  auto doc = Replay(*t);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ((*doc)->Text(), "XaYbZ");
}

TEST(TraceReplayTest, BenchReportsMismatchAndJsonLine) {
  auto good = ParseTrace(R"({"endContent":"ab","txns":[
    {"patches":[[0,0,"b"],[0,0,"a"]]}]})");
  ASSERT_TRUE(good.ok());
  BenchResult r = Bench(*good, 3);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.kind, "sequential");
  EXPECT_EQ(r.patches, 2u);
  EXPECT_GT(r.encoded_bytes, 0u);
  std::string line = BenchJson("t.json", r);
  for (const char* key :
       {"\"trace\":\"t.json\"", "\"kind\":\"sequential\"", "\"patches\":2",
        "\"ok\":true", "\"apply_ms_median\":", "\"load_ms_median\":",
        "\"encoded_bytes\":", "\"peak_rss_mib\":"}) {
    EXPECT_NE(line.find(key), std::string::npos) << key << " in " << line;
  }
  auto bad =
      ParseTrace(R"({"endContent":"xx","txns":[{"patches":[[0,0,"ab"]]}]})");
  ASSERT_TRUE(bad.ok());
  BenchResult rb = Bench(*bad, 1);
  EXPECT_FALSE(rb.ok);
  EXPECT_NE(BenchJson("b", rb).find("\"ok\":false"), std::string::npos);
  // A patch past the end of the document is an error, not a crash.
  auto broken =
      ParseTrace(R"({"endContent":"","txns":[{"patches":[[5,0,"a"]]}]})");
  ASSERT_TRUE(broken.ok());
  EXPECT_FALSE(Bench(*broken, 1).ok);
}

TEST(TraceReplayTest, EveryTraceReachesEndContent) {
  std::string outside;
  std::vector<fs::path> files = TraceFiles(&outside);
  RecordProperty("traces", outside);
  ASSERT_GE(files.size(), 2u) << "tests/traces is missing";
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    auto t = LoadTraceFile(f.string());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    auto doc = Replay(*t);
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    EXPECT_EQ((*doc)->Text(), t->end_content);
    EXPECT_TRUE((*doc)->CheckInvariants().ok());
    std::string snap = (*doc)->EncodeSnapshot();
    auto loaded = core::TextDoc::LoadSnapshot(snap, 99);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ((*loaded)->Text(), t->end_content);
    EXPECT_EQ((*loaded)->EncodeSnapshot(), snap);
    // A fresh peer catching up through one update agrees byte for byte.
    core::TextDoc peer(7);
    ASSERT_TRUE(peer.ApplyUpdate((*doc)->EncodeDiff({}), false).ok());
    EXPECT_EQ(peer.EncodeSnapshot(), snap);
  }
}

}  // namespace
}  // namespace weft::trace
