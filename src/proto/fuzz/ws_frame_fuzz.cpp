// Fuzz target for the WebSocket frame reader (libFuzzer entry point).
// Properties checked on every input: Feed never crashes or reads past its
// input, nothing it delivers is longer than the input, and reading the
// input in two pieces (split where its first byte says) gives exactly the
// events and result of reading it at once.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "proto/ws_frame.h"

namespace {

struct Outcome {
  std::vector<std::string> events;
  std::uint16_t code = 0;
};

Outcome ReadAll(std::string bytes, std::size_t split) {
  weft::proto::WsFrameReader reader(4096);
  Outcome out;
  auto on_event = [&](const weft::proto::WsEvent& e) {
    out.events.push_back(std::to_string(static_cast<int>(e.opcode)) + ":" +
                         std::to_string(e.close_code) + ":" +
                         std::string(e.payload));
  };
  out.code = reader.Feed(bytes.data(), split, on_event);
  if (out.code == 0) {
    out.code =
        reader.Feed(bytes.data() + split, bytes.size() - split, on_event);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  Outcome whole = ReadAll(input, input.size());
  std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
  Outcome pieces = ReadAll(input, split);
  if (whole.code != pieces.code || whole.events != pieces.events) std::abort();
  std::size_t delivered = 0;
  for (const auto& e : whole.events) delivered += e.size();
  // Each event adds at most 12 bytes of "op:code:" labelling.
  if (delivered > size + 12 * whole.events.size()) std::abort();
  return 0;
}
