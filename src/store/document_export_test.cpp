#include "store/document_export.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

namespace weft::store {
namespace {

DocumentDump Sample() {
  DocumentDump d;
  d.doc_id = "doc-1";
  for (std::int64_t s = 1; s <= 4; ++s) {
    StoredOp op{s,
                {7, static_cast<std::uint64_t>(s)},
                "u",
                100 + s,
                std::string("p\0", 2),
                "payload" + std::to_string(s)};
    bool compacted = s <= 2;
    if (compacted) op.parents = op.payload = "";
    d.ops.push_back(op);
    d.compacted.push_back(compacted);
  }
  d.snapshot = Snapshot{"doc-1", 2, 50, std::string("st\0ate", 6)};
  return d;
}

TEST(DocumentExportTest, RoundTripsEveryField) {
  DocumentDump d = Sample();
  auto back = DecodeDocumentDump(EncodeDocumentDump(d));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, d);
}

TEST(DocumentExportTest, RoundTripsOpsWithEmptyFields) {
  DocumentDump d;
  d.doc_id = "x";
  d.ops.push_back(StoredOp{1, {0, 0}, "", 0, "", ""});
  d.compacted.push_back(false);
  auto back = DecodeDocumentDump(EncodeDocumentDump(d));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, d);
}

TEST(DocumentExportTest, RejectsDamagedBytes) {
  std::string bytes = EncodeDocumentDump(Sample());
  std::string flipped = bytes;
  flipped[20] ^= 0x40;
  EXPECT_EQ(DecodeDocumentDump(flipped).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(
      DecodeDocumentDump(bytes.substr(0, bytes.size() - 1)).status().code(),
      StatusCode::kCorruption);
  EXPECT_EQ(DecodeDocumentDump("hello").status().code(),
            StatusCode::kCorruption);
  // Self-inconsistent content is rejected even with a valid checksum.
  DocumentDump gap = Sample();
  gap.ops[3].seq = 9;
  EXPECT_EQ(DecodeDocumentDump(EncodeDocumentDump(gap)).status().code(),
            StatusCode::kCorruption);
}

TEST(DocumentExportTest, NeverCrashesOnArbitraryBytes) {
  EXPECT_TRUE(rc::check("decode of random or truncated bytes", [] {
    std::string valid = EncodeDocumentDump(Sample());
    auto cut = *rc::gen::inRange<std::size_t>(0, valid.size());
    auto noise = *rc::gen::arbitrary<std::string>();
    auto a = DecodeDocumentDump(valid.substr(0, cut));
    RC_ASSERT(!a.ok());
    RC_ASSERT(a.status().code() == StatusCode::kCorruption);
    auto b = DecodeDocumentDump("WEFTDOC\x01" + noise);
    RC_ASSERT(!b.ok());
  }));
}

}  // namespace
}  // namespace weft::store
