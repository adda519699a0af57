#pragma once

// The file format of `weft export` / `weft import`: one document's
// DocumentDump (store.h) as bytes. Integers little-endian, fixed width:
//
//   file     := "WEFTDOC" u8(1) str(doc_id) u8(has_snapshot) [snapshot]
//               u64(op_count) op* u32(crc32 of everything before it)
//   snapshot := i64(last_included_seq) i64(created_ms) str(state)
//   op       := i64(seq) u64(client_id) u64(local_seq) u8(compacted)
//               str(user_id) i64(server_time_ms) str(parents) str(payload)
//   str      := u32(length) byte*length
//
// Decoding treats the bytes as untrusted: any malformed input is
// kCorruption, never a crash. A decoded dump is also checked with
// CheckDocumentDump.

#include <string>
#include <string_view>

#include "common/status.h"
#include "store/store.h"

namespace weft::store {

std::string EncodeDocumentDump(const DocumentDump& dump);
Result<DocumentDump> DecodeDocumentDump(std::string_view bytes);

}  // namespace weft::store
