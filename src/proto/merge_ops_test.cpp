#include "proto/merge_ops.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <optional>

#include "proto/codec.h"

namespace weft::proto {
namespace {

Change C(std::uint64_t client, std::uint64_t seq, std::string update) {
  return Change{client, seq, 1, std::move(update)};
}

std::string OpsBytes(const std::string& doc, std::uint64_t first,
                     std::vector<Change> changes) {
  return Encode(Ops{doc, first, std::move(changes)});
}

constexpr std::size_t kLimit = 1 << 20;

// AppendOps on a copy of `a`: the merged message, or nullopt (and then
// the copy must be unchanged). CanAppendOps must have said which.
std::optional<std::string> MergeOps(const std::string& a, std::string_view b,
                                    std::size_t limit) {
  std::string merged = a;
  bool can = CanAppendOps(a, b, limit);
  if (AppendOps(merged, b, limit)) {
    EXPECT_TRUE(can);
    return merged;
  }
  EXPECT_FALSE(can);
  EXPECT_EQ(merged, a);
  return std::nullopt;
}

TEST(MergeOpsTest, ContiguousOpsOfOneDocumentBecomeOne) {
  auto a = OpsBytes("d", 7, {C(1, 0, "x"), C(2, 0, "yy")});
  auto b = OpsBytes("d", 9, {C(1, 1, "zzz")});
  auto merged = MergeOps(a, b, kLimit);
  ASSERT_TRUE(merged.has_value());
  EXPECT_EQ(*merged,
            OpsBytes("d", 7, {C(1, 0, "x"), C(2, 0, "yy"), C(1, 1, "zzz")}));
  auto decoded = Decode(*merged);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(std::get<Ops>(*decoded).changes.size(), 3u);
}

TEST(MergeOpsTest, OnlyContiguousOpsOfTheSameDocumentMerge) {
  auto a = OpsBytes("d", 7, {C(1, 0, "x")});
  EXPECT_FALSE(MergeOps(a, OpsBytes("e", 8, {C(1, 1, "y")}), kLimit));
  EXPECT_FALSE(MergeOps(a, OpsBytes("d", 9, {C(1, 1, "y")}), kLimit));  // gap
  EXPECT_FALSE(MergeOps(a, OpsBytes("d", 7, {C(1, 1, "y")}), kLimit));
  EXPECT_FALSE(MergeOps(a, Encode(Synced{"d", 7}), kLimit));
  EXPECT_FALSE(MergeOps(Encode(Ack{"d", {{1, 0, 7}}}), a, kLimit));
  EXPECT_FALSE(MergeOps(a, OpsBytes("d", 8, {}), kLimit));
  EXPECT_FALSE(MergeOps(a, "", kLimit));
  EXPECT_FALSE(MergeOps(a, "\x84\xff", kLimit));
  auto b = OpsBytes("d", 8, {C(1, 1, "y")});
  EXPECT_FALSE(MergeOps(a, b, a.size() + b.size() - 1));  // over the limit
  EXPECT_TRUE(MergeOps(a, b, a.size() + b.size()));
}

// Splitting any list of changes in two and merging the halves gives the
// message of the whole list.
RC_GTEST_PROP(MergeOpsProperty, MergedHalvesEncodeTheWhole, ()) {
  auto n = *rc::gen::inRange<std::size_t>(2, 20);
  std::vector<Change> all;
  for (std::size_t i = 0; i < n; ++i) {
    all.push_back(
        C(*rc::gen::inRange<std::uint64_t>(1, 1u << 20), i,
          *rc::gen::container<std::string>(rc::gen::arbitrary<char>())));
  }
  auto cut = *rc::gen::inRange<std::size_t>(1, n);
  auto first = *rc::gen::inRange<std::uint64_t>(1, 1ull << 40);
  auto a = OpsBytes("doc", first, {all.begin(), all.begin() + cut});
  auto b = OpsBytes("doc", first + cut, {all.begin() + cut, all.end()});
  auto merged = MergeOps(a, b, kLimit);
  RC_ASSERT(merged.has_value());
  RC_ASSERT(*merged == OpsBytes("doc", first, all));
}

// A run merged one message at a time, across a count that needs a longer
// varuint (127 -> 128 changes), gives the message of the whole run.
TEST(MergeOpsTest, RunsMergeOneAtATime) {
  std::vector<Change> all;
  for (std::uint64_t i = 0; i < 200; ++i) all.push_back(C(1, i, "u"));
  std::string merged = OpsBytes("d", 1, {all.begin(), all.begin() + 100});
  for (std::uint64_t i = 100; i < 200; ++i) {
    ASSERT_TRUE(AppendOps(merged, OpsBytes("d", 1 + i, {all[i]}), kLimit));
  }
  EXPECT_EQ(merged, OpsBytes("d", 1, all));
}

}  // namespace
}  // namespace weft::proto
