#pragma once

// The fuzz smoke tests' driver and seeded mutations: what a libFuzzer run does
// at random, done deterministically under the normal compiler.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

// The fuzz target linked with the test.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

namespace weft::proto::fuzz {

inline void FuzzOne(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()),
                         s.size());
}

// `seed` with 1-4 random edits: a byte changed, inserted or erased, another
// seed appended, or the end cut off.
inline std::string Mutate(std::string s, const std::vector<std::string>& seeds,
                          std::mt19937_64& rng) {
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 5) {
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
        s += seeds[rng() % seeds.size()];
        break;
      case 4:
        s.resize(rng() % (s.size() + 1));
        break;
    }
  }
  return s;
}

// Up to 63 random bytes.
inline std::string RandomBytes(std::mt19937_64& rng) {
  std::string s(rng() % 64, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace weft::proto::fuzz
