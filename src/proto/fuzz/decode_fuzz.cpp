// Fuzz target for the sync protocol decoder (libFuzzer entry point).
// Properties checked on every input: Decode never crashes, and whatever it
// accepts re-encodes to exactly the input (the encoding is canonical).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto message = weft::proto::Decode(input);
  if (message.ok()) {
    if (weft::proto::Encode(*message) != input) std::abort();
  } else if (message.status().code() != weft::StatusCode::kCorruption) {
    std::abort();
  }
  return 0;
}
