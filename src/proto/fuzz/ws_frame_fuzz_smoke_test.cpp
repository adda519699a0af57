// Drives the WebSocket frame fuzz target with seeded random and mutated
// inputs under the normal compiler, so every `make test` exercises it.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "proto/fuzz/mutate.h"

namespace weft::proto {
namespace {

TEST(WsFrameFuzzSmokeTest, SeededMutationsOfValidFrames) {
  // Masked client frames: binary "abc", a fragmented message with a ping
  // between its fragments, a close with code 1000, a 16-bit length.
  std::vector<std::string> seeds = {
      std::string("\x82\x83\x01\x02\x03\x04"
                  "`ab",
                  9),
      std::string("\x02\x81\x00\x00\x00\x00"
                  "a"
                  "\x89\x80\x00\x00\x00\x00"
                  "\x80\x81\x00\x00\x00\x00"
                  "b",
                  20),
      std::string("\x88\x82\x00\x00\x00\x00\x03\xe8", 8),
      std::string("\x82\xfe\x00\x80\x00\x00\x00\x00", 8) +
          std::string(128, 'x'),
  };
  std::mt19937_64 rng(20261206);
  for (int i = 0; i < 100000; ++i) {
    std::string s = fuzz::Mutate(seeds[rng() % seeds.size()], seeds, rng);
    fuzz::FuzzOne(s);  // aborts on a broken property
  }
  SUCCEED();
}

TEST(WsFrameFuzzSmokeTest, RandomBytes) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 100000; ++i) {
    std::string s = fuzz::RandomBytes(rng);
    fuzz::FuzzOne(s);
  }
  SUCCEED();
}

}  // namespace
}  // namespace weft::proto
