#include "core/fractional_index.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace weft::core {
namespace {

TEST(FractionalIndexTest, BetweenIsStrictlyBetween) {
  std::string a = KeyBetween("", "");
  std::string b = KeyBetween(a, "");
  std::string c = KeyBetween("", a);
  EXPECT_LT(a, b);
  EXPECT_LT(c, a);
  std::string m = KeyBetween(a, b);
  EXPECT_LT(a, m);
  EXPECT_LT(m, b);
  EXPECT_TRUE(IsValidKey(m));
  EXPECT_FALSE(IsValidKey(""));
  EXPECT_FALSE(IsValidKey("a0"));
  EXPECT_FALSE(IsValidKey("a-b"));
}

TEST(FractionalIndexTest, RepeatedInsertsAtOnePlaceStayOrdered) {
  std::string lo = KeyBetween("", "");
  std::string hi = KeyBetween(lo, "");
  for (int i = 0; i < 500; ++i) {
    std::string k = KeyBetween(lo, hi);
    ASSERT_LT(lo, k);
    ASSERT_LT(k, hi);
    ASSERT_TRUE(IsValidKey(k));
    if (i % 2) {
      lo = k;
    } else {
      hi = k;
    }
  }
}

// Appending (and prepending) over and over keeps keys short: their length
// grows with the logarithm of the count. The midpoint towards the end
// grew a character every 6 appends and passed the 1,024-character limit
// after about 6,000, after which a list took no more appends.
TEST(FractionalIndexTest, AppendsAndPrependsKeepKeysShort) {
  std::string last = KeyBetween("", "");
  std::string first = last;
  for (int i = 0; i < 100000; ++i) {
    std::string k = KeyBetween(last, "");
    ASSERT_LT(last, k);
    ASSERT_TRUE(IsValidKey(k)) << k;
    last = k;
    std::string p = KeyBetween("", first);
    ASSERT_LT(p, first);
    ASSERT_TRUE(IsValidKey(p)) << p;
    first = p;
  }
  EXPECT_LE(last.size(), 8u) << last;
  EXPECT_LE(first.size(), 8u) << first;
  // Still room between neighbours, and around the ends.
  std::string before_last = KeyBetween("", last);
  std::string m = KeyBetween(before_last, last);
  EXPECT_LT(before_last, m);
  EXPECT_LT(m, last);
  // After a key drawn twice (concurrent inserts), still a key after it.
  EXPECT_LT(last, KeyBetween(last, last));
}

// A long key of the old midpoint scheme (a list appended to some
// thousand times before) goes on taking appends and prepends: growing by
// its own length would pass the limit at once past 512 characters.
TEST(FractionalIndexTest, LongKeysGrowOnlyUpToTheLimit) {
  std::string last(700, 'z');
  std::string first = std::string(699, '0') + "1";
  for (int i = 0; i < 1000; ++i) {
    std::string k = KeyBetween(last, "");
    ASSERT_LT(last, k);
    ASSERT_TRUE(IsValidKey(k)) << i << ": " << k.size();
    last = k;
    std::string p = KeyBetween("", first);
    ASSERT_LT(p, first);
    ASSERT_TRUE(IsValidKey(p)) << i << ": " << p.size();
    first = p;
  }
  // At the limit there is nothing after: the key is refused as too long.
  EXPECT_FALSE(IsValidKey(KeyBetween(std::string(1024, 'z'), "")));
}

RC_GTEST_PROP(FractionalIndexTest, AnyTwoKeysHaveAKeyBetween, ()) {
  std::string lo = KeyBetween("", "");
  std::string hi;
  const auto steps =
      *rc::gen::container<std::vector<bool>>(rc::gen::arbitrary<bool>());
  for (bool left : steps) {
    std::string k = KeyBetween(lo, hi);
    RC_ASSERT(lo < k);
    RC_ASSERT(hi.empty() || k < hi);
    RC_ASSERT(IsValidKey(k));
    (left ? hi : lo) = k;
  }
}

}  // namespace
}  // namespace weft::core
