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
