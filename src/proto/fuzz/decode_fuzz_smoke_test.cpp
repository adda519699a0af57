// Drives the fuzz target with seeded random and mutated inputs under the
// normal compiler, so every `make test` exercises it; the libFuzzer build
// explores far more.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "proto/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

namespace weft::proto {
namespace {

void FuzzOne(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()),
                         s.size());
}

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
    std::string s = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0:
          if (!s.empty()) s[rng() % s.size()] = static_cast<char>(rng());
          break;
        case 1:
          s.insert(s.begin() + static_cast<long>(rng() % (s.size() + 1)),
                   static_cast<char>(rng()));
          break;
        case 2:
          if (!s.empty())
            s.erase(s.begin() + static_cast<long>(rng() % s.size()));
          break;
        case 3:
          s.resize(rng() % (s.size() + 1));
          break;
      }
    }
    FuzzOne(s);  // aborts on a broken property
    if (Decode(s).ok()) ++accepted;
  }
  // Both paths were exercised: some mutants still decode, most do not.
  EXPECT_GT(accepted, 100);
  EXPECT_LT(accepted, 200000);
}

TEST(DecodeFuzzSmokeTest, RandomBytes) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    FuzzOne(s);
  }
  SUCCEED();
}

}  // namespace
}  // namespace weft::proto
