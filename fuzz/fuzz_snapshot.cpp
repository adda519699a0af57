// Fuzz target: TextDoc::LoadSnapshot on hostile bytes. A snapshot that
// loads must pass the invariant checker, re-encode, and accept an edit.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "core/text_doc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto doc = weft::core::TextDoc::LoadSnapshot(bytes, 42);
  if (!doc.ok()) return 0;
  // Origins are validated lazily, so the checker may report them; it must
  // not crash either way.
  (void)(*doc)->CheckInvariants();
  (void)(*doc)->Text();
  (void)(*doc)->EncodeSnapshot();
  (void)(*doc)->EncodeDiff({});
  if ((*doc)->length() > 0) (void)(*doc)->Delete(0, 1);
  (void)(*doc)->Insert(0, "x");
  return 0;
}
