#include "core/range_map.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

namespace weft::core {
namespace {

// The model: one value per key of a small domain.
constexpr uint32_t kDomain = 2000;

void ExpectAgrees(const RangeMap<int>& m, const std::vector<int>& model) {
  ASSERT_TRUE(m.CheckInvariants());
  for (uint32_t k = 0; k < kDomain; ++k) {
    ASSERT_EQ(m.Find(k), model[k]) << "key " << k;
  }
}

TEST(RangeMapTest, EmptyFindsNothing) {
  RangeMap<int> m;
  EXPECT_EQ(m.Find(0), 0);
  EXPECT_EQ(m.Find(UINT32_MAX), 0);
  EXPECT_EQ(m.size(), 0u);
}

TEST(RangeMapTest, AppendsMergeEqualNeighbours) {
  RangeMap<int> m;
  m.AssignFrom(0, 1);
  m.AssignFrom(10, 1);  // same value: no new entry
  m.AssignFrom(20, 2);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.Find(19), 1);
  EXPECT_EQ(m.Find(20), 2);
  EXPECT_EQ(m.Find(UINT32_MAX), 2);
}

TEST(RangeMapTest, AssignInsideARangeKeepsItsTail) {
  RangeMap<int> m;
  m.AssignFrom(0, 1);
  m.Assign(10, 20, 2);
  EXPECT_EQ(m.Find(9), 1);
  EXPECT_EQ(m.Find(10), 2);
  EXPECT_EQ(m.Find(19), 2);
  EXPECT_EQ(m.Find(20), 1);
  EXPECT_EQ(m.size(), 3u);
  m.Assign(5, 25, 1);  // covers the middle range again: one range left
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.Find(15), 1);
}

TEST(RangeMapTest, ManyChunksSplitAndEmpty) {
  // Alternating values never merge: thousands of entries, many chunks.
  RangeMap<int> m;
  std::vector<int> model(kDomain, 0);
  for (uint32_t k = 0; k < kDomain; k += 2) {
    m.AssignFrom(k, static_cast<int>(k % 4) + 1);
    for (uint32_t j = k; j < kDomain; ++j)
      model[j] = static_cast<int>(k % 4) + 1;
  }
  ExpectAgrees(m, model);
  EXPECT_GT(m.size(), static_cast<size_t>(RangeMap<int>::kChunk) * 4);
  // Split chunks in the middle, then erase whole chunks at once.
  for (uint32_t k = 1; k < 600; k += 6) {
    m.Assign(k, k + 1, 9);
    model[k] = 9;
  }
  ExpectAgrees(m, model);
  m.Assign(100, 1500, 7);
  for (uint32_t j = 100; j < 1500; ++j) model[j] = 7;
  ExpectAgrees(m, model);
  m.AssignFrom(50, 3);
  for (uint32_t j = 50; j < kDomain; ++j) model[j] = 3;
  ExpectAgrees(m, model);
  EXPECT_LT(m.size(), static_cast<size_t>(RangeMap<int>::kChunk));
}

TEST(RangeMapTest, LargestKey) {
  RangeMap<int> m;
  m.AssignFrom(UINT32_MAX, 4);
  EXPECT_EQ(m.Find(UINT32_MAX - 1), 0);
  EXPECT_EQ(m.Find(UINT32_MAX), 4);
  m.AssignFrom(7, 5);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.Find(UINT32_MAX), 5);
}

TEST(RangeMapTest, AppendIsAssignFromPastTheEnd) {
  RangeMap<int> appended, assigned;
  uint32_t key = 0;
  for (int i = 0; i < 300; ++i) {  // several chunks; repeated values merge
    const int v = 1 + (i / 3) % 4;
    appended.Append(key, v);
    assigned.AssignFrom(key, v);
    key += 1 + i % 5;
  }
  ASSERT_TRUE(appended.CheckInvariants());
  EXPECT_EQ(appended.size(), assigned.size());
  for (uint32_t k = 0; k <= key; ++k) {
    ASSERT_EQ(appended.Find(k), assigned.Find(k)) << k;
  }
}

RC_GTEST_PROP(RangeMapProperty, AgreesWithAPlainArray, ()) {
  RangeMap<int> m;
  std::vector<int> model(kDomain, 0);
  const int steps = *rc::gen::inRange(1, 400);
  for (int step = 0; step < steps; ++step) {
    const uint32_t s = *rc::gen::inRange<uint32_t>(0, kDomain);
    const int v = *rc::gen::inRange(1, 6);
    if (*rc::gen::inRange(0, 5) == 0) {
      m.AssignFrom(s, v);
      for (uint32_t j = s; j < kDomain; ++j) model[j] = v;
    } else {
      const uint32_t e = s + *rc::gen::inRange<uint32_t>(1, 80);
      m.Assign(s, e, v);
      for (uint32_t j = s; j < e && j < kDomain; ++j) model[j] = v;
    }
    RC_ASSERT(m.CheckInvariants());
  }
  for (uint32_t k = 0; k < kDomain; ++k) RC_ASSERT(m.Find(k) == model[k]);
}

}  // namespace
}  // namespace weft::core
