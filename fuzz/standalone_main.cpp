// Driver for the fuzz targets when libFuzzer is not available (g++ builds):
// runs every file given on the command line (seed corpora), then a fixed
// number of deterministic byte-level mutations of them. A crash, sanitizer
// report or failed WEFT_CHECK fails the test. The real coverage-guided runs
// use clang's libFuzzer (see fuzz/CMakeLists.txt).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  std::vector<std::string> seeds;
  long iterations = 20000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("-runs=", 0) == 0) {
      iterations = std::atol(arg.c_str() + 6);
      continue;
    }
    std::filesystem::path p(arg);
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) {
        files.push_back(e.path());
      }
    } else {
      files.push_back(p);
    }
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      seeds.emplace_back(std::istreambuf_iterator<char>(in),
                         std::istreambuf_iterator<char>());
    }
  }
  if (seeds.empty()) seeds.emplace_back();
  for (const std::string& s : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()),
                           s.size());
  }
  uint64_t x = 88172645463325252ull;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (long it = 0; it < iterations; ++it) {
    std::string s = seeds[next() % seeds.size()];
    int edits = 1 + next() % 4;
    for (int e = 0; e < edits; ++e) {
      uint64_t r = next();
      size_t pos = s.empty() ? 0 : r % (s.size() + 1);
      switch ((r >> 32) % 5) {
        case 0:  // flip a byte
          if (!s.empty())
            s[pos % s.size()] ^= static_cast<char>(1 + next() % 255);
          break;
        case 1:  // insert a byte
          s.insert(s.begin() + pos, static_cast<char>(next()));
          break;
        case 2:  // erase a range
          if (!s.empty()) s.erase(pos % s.size(), 1 + next() % 8);
          break;
        case 3:  // interesting varint bytes
          s.insert(pos, std::string("\xFF\xFF\xFF\xFF\x0F", 1 + next() % 5));
          break;
        case 4: {  // a varint in place at the edges of 31 and 32 bits
          static const char* const kEdges[] = {
              "\xFF\xFF\xFF\xFF\x07",  // 2^31 - 1
              "\x80\x80\x80\x80\x08",  // 2^31
              "\xFE\xFF\xFF\xFF\x0F",  // 2^32 - 2
              "\xFF\xFF\xFF\xFF\x0F",  // 2^32 - 1
          };
          std::string v(kEdges[next() % 4], 5);
          if (s.size() < pos + v.size()) s.resize(pos + v.size());
          s.replace(pos, v.size(), v);
          break;
        }
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()),
                           s.size());
  }
  std::printf("ran %zu seeds and %ld mutations\n", seeds.size(), iterations);
  return 0;
}
