// Fuzz target: state vector decoding and diffs against hostile vectors.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "core/text_doc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto sv = weft::core::DecodeStateVector(bytes);
  if (sv.ok()) {
    // Overlong varints decode too, so compare values, not bytes.
    auto again =
        weft::core::DecodeStateVector(weft::core::EncodeStateVector(*sv));
    WEFT_CHECK(again.ok() && *again == *sv);
  }
  weft::core::TextDoc doc(7);
  WEFT_CHECK(doc.Insert(0, "abc").ok());
  auto diff = doc.EncodeDiffBytes(bytes);
  if (diff.ok()) {
    weft::core::TextDoc peer(8);
    WEFT_CHECK(peer.ApplyUpdate(*diff).ok());
  }
  return 0;
}
