// Fuzz target: TextDoc::LoadSnapshot and PeekSnapshotText on hostile
// bytes. A snapshot that loads must peek to the same text, pass the
// invariant checker, re-encode, and accept an edit.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "core/text_doc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Odd sizes keep the snapshot's text (as the WASM build loads).
  using Keep = weft::core::TextDoc::LoadKeep;
  // The peek checks a subset of what the load checks.
  auto peeked = weft::core::TextDoc::PeekSnapshotText(bytes);
  auto doc = weft::core::TextDoc::LoadSnapshot(
      bytes, 42, {}, size % 2 != 0 ? Keep::kText : Keep::kNothing);
  if (!doc.ok()) return 0;
  WEFT_CHECK(peeked.ok());
  WEFT_CHECK(peeked->utf8 == (*doc)->Text());
  WEFT_CHECK(peeked->length == (*doc)->length());
  // Origins are validated lazily, so the checker may report them; it must
  // not crash either way.
  (void)(*doc)->CheckInvariants();
  (void)(*doc)->Text();
  (void)(*doc)->EncodeSnapshot();
  (void)(*doc)->EncodeDiff({});
  if ((*doc)->length() > 0) (void)(*doc)->Delete(0, 1);
  // An edit must show in the text (it drops any kept text).
  const std::string before = (*doc)->Text();
  if ((*doc)->Insert(0, "x").ok()) WEFT_CHECK((*doc)->Text() == "x" + before);
  return 0;
}
