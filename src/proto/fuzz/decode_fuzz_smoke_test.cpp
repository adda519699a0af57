// Drives the fuzz target with seeded random and mutated inputs under the
// normal compiler, so every `make test` exercises it; the libFuzzer build
// explores far more.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "proto/codec.h"
#include "proto/fuzz/mutate.h"

namespace weft::proto {
namespace {

TEST(DecodeFuzzSmokeTest, SeededMutationsOfValidMessages) {
  std::vector<std::string> seeds = {
      Encode(Hello{1, "token", "web"}),
      Encode(Submit{"doc", {Change{1, 2, 3, "abc"}, Change{4, 5, 6, ""}}}),
      Encode(Ops{"doc", 10, {Change{9, 9, 9, std::string(40, 'x')}}}),
      Encode(Ack{"doc", {{1, 2, 3}, {4, 5, 6}}}),
      Encode(Error{409, "doc", "gap", 17}),
      Encode(Subscribed{"doc", Role::kEditor, 5}),
  };
  std::mt19937_64 rng(20261122);
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string s = fuzz::Mutate(seeds[rng() % seeds.size()], seeds, rng);
    fuzz::FuzzOne(s);  // aborts on a broken property
    if (Decode(s).ok()) ++accepted;
  }
  // Both paths were exercised: some mutants still decode, most do not.
  EXPECT_GT(accepted, 100);
  EXPECT_LT(accepted, 200000);
}

TEST(DecodeFuzzSmokeTest, RandomBytes) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    std::string s = fuzz::RandomBytes(rng);
    fuzz::FuzzOne(s);
  }
  SUCCEED();
}

}  // namespace
}  // namespace weft::proto
