// Fuzz target: StructDoc::ApplyUpdate and LoadSnapshot on hostile bytes.
// Whatever is accepted must re-encode and reload to the same JSON.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "core/struct_doc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using weft::core::ContainerRef;
  using weft::core::StructDoc;
  using weft::core::Value;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  StructDoc doc(1);
  auto nested = doc.MapSet(ContainerRef::RootMap("m"), "n", Value::NewList());
  WEFT_CHECK(nested.ok());
  WEFT_CHECK(doc.ListInsert(**nested, 0, Value::Int(1)).ok());
  (void)doc.ApplyUpdate(bytes);
  auto loaded = StructDoc::LoadSnapshot(doc.EncodeSnapshot(), 2);
  WEFT_CHECK(loaded.ok());
  WEFT_CHECK((*loaded)->ToJson() == doc.ToJson());
  (void)StructDoc::LoadSnapshot(bytes, 3);
  return 0;
}
