// Fuzz target: LzDecompress on hostile bytes, and LzCompress round trips.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "core/lz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string out;
  (void)weft::core::LzDecompress(bytes, 1 << 16, &out);
  WEFT_CHECK(out.size() <= (1 << 16));
  std::string back;
  WEFT_CHECK(weft::core::LzDecompress(weft::core::LzCompress(bytes),
                                      bytes.size(), &back)
                 .ok());
  WEFT_CHECK(back == bytes);
  return 0;
}
