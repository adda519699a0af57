// Fuzz target: TextDoc::ApplyUpdate on hostile bytes, on an empty document
// and on one with content (so ids in the input can hit real characters).
// Any outcome but a crash, sanitizer report or broken invariant is fine.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "core/text_doc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  weft::core::TextDoc empty(1);
  (void)empty.ApplyUpdate(bytes);
  WEFT_CHECK(empty.CheckInvariants().ok());

  weft::core::TextDoc doc(2);
  WEFT_CHECK(doc.Insert(0, "hello w\xC3\xB6rld").ok());
  WEFT_CHECK(doc.Delete(2, 3).ok());
  (void)doc.ApplyUpdate(bytes);
  WEFT_CHECK(doc.CheckInvariants().ok());
  // Whatever was accepted must encode and reload.
  auto reloaded = weft::core::TextDoc::LoadSnapshot(doc.EncodeSnapshot(), 3);
  WEFT_CHECK(reloaded.ok());
  WEFT_CHECK((*reloaded)->Text() == doc.Text());
  // And travel to another replica whole.
  weft::core::TextDoc peer(4);
  WEFT_CHECK(peer.ApplyUpdate(doc.EncodeDiff({})).ok());
  WEFT_CHECK(peer.Text() == doc.Text());
  WEFT_CHECK(peer.TotalOpCount() == doc.TotalOpCount());
  return 0;
}
