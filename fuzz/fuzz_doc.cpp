// Fuzz target: Doc (structure + texts) update, state vector and snapshot
// decoding. Whatever is accepted must re-encode and reload identically.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "core/doc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using weft::core::ContainerRef;
  using weft::core::Doc;
  using weft::core::Value;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Doc doc(1);
  auto t =
      doc.structure().MapSet(ContainerRef::RootMap("m"), "t", Value::NewText());
  WEFT_CHECK(t.ok());
  WEFT_CHECK((*doc.Text(**t))->Insert(0, "abc").ok());
  (void)doc.ApplyUpdate(bytes);
  // The kept op counts agree with the state vectors, whatever part of the
  // update was applied.
  uint64_t total = 0;
  for (const auto& [client, n] : doc.OpCounts()) {
    WEFT_CHECK(doc.OpCount(client) == n);
    total += n;
  }
  WEFT_CHECK(doc.TotalOpCount() == total);
  (void)doc.EncodeDiff(bytes);
  auto loaded = Doc::LoadSnapshot(doc.EncodeSnapshot(), 2);
  WEFT_CHECK(loaded.ok());
  WEFT_CHECK((*loaded)->ToJson() == doc.ToJson());
  (void)Doc::LoadSnapshot(bytes, 3);
  return 0;
}
