#include "typist.h"

#include <gtest/gtest.h>

namespace weft::load {
namespace {

TEST(TypistTest, EachEditIsOneDenseChangeThatAnotherReplicaApplies) {
  core::TextDoc a(7), b(8);
  Typist typist(42);
  std::uint64_t next = 0;
  for (int i = 0; i < 500; ++i) {
    auto change = typist.Edit(a);
    ASSERT_TRUE(change.ok()) << change.status().ToString();
    EXPECT_EQ(change->client_id, 7u);
    EXPECT_EQ(change->first_seq, next);
    EXPECT_EQ(change->span, 1u);
    next += change->span;
    ASSERT_TRUE(b.ApplyUpdate(change->update).ok());
  }
  EXPECT_EQ(a.Text(), b.Text());
  EXPECT_GT(a.length(), 100u);  // mostly inserts
  EXPECT_LT(a.length(), 500u);  // and some deletes
}

TEST(TypistTest, KeepsTheTextNearItsMaximumLength) {
  core::TextDoc a(7);
  Typist typist(1, 50);
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(typist.Edit(a).ok());
  EXPECT_LT(a.length(), 200u);
}

TEST(TypistTest, ConcurrentTypistsConverge) {
  core::TextDoc a(1), b(2);
  Typist ta(1), tb(2);
  std::vector<std::string> to_b, to_a;
  for (int i = 0; i < 200; ++i) {
    to_b.push_back(ta.Edit(a)->update);
    to_a.push_back(tb.Edit(b)->update);
    if (i % 10 == 9) {  // exchange every ten edits, as over a network
      for (auto& u : to_a) ASSERT_TRUE(a.ApplyUpdate(u).ok());
      for (auto& u : to_b) ASSERT_TRUE(b.ApplyUpdate(u).ok());
      to_a.clear();
      to_b.clear();
    }
  }
  EXPECT_EQ(a.Text(), b.Text());
}

}  // namespace
}  // namespace weft::load
