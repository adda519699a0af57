#include "store/document_export.h"

#include <array>
#include <cstring>

namespace weft::store {
namespace {

constexpr std::string_view kMagic = "WEFTDOC";
constexpr std::uint8_t kVersion = 1;

std::uint32_t Crc32(std::string_view data) {
  static const auto kTable = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = kTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void PutU(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutStr(std::string& out, std::string_view s) {
  PutU(out, s.size(), 4);
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U(int bytes, std::uint64_t* v) {
    if (in_.size() - pos_ < static_cast<std::size_t>(bytes)) return false;
    *v = 0;
    for (int i = 0; i < bytes; ++i) {
      *v |= std::uint64_t{static_cast<unsigned char>(in_[pos_ + i])} << (8 * i);
    }
    pos_ += bytes;
    return true;
  }
  bool I64(std::int64_t* v) {
    std::uint64_t u;
    if (!U(8, &u)) return false;
    *v = static_cast<std::int64_t>(u);
    return true;
  }
  bool Str(std::string* s) {
    std::uint64_t n;
    if (!U(4, &n) || in_.size() - pos_ < n) return false;
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  std::size_t pos() const { return pos_; }
  std::size_t left() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string EncodeDocumentDump(const DocumentDump& dump) {
  std::string out(kMagic);
  out.push_back(static_cast<char>(kVersion));
  PutStr(out, dump.doc_id);
  out.push_back(dump.snapshot ? 1 : 0);
  if (dump.snapshot) {
    PutU(out, static_cast<std::uint64_t>(dump.snapshot->last_included_seq), 8);
    PutU(out, static_cast<std::uint64_t>(dump.snapshot->created_ms), 8);
    PutStr(out, dump.snapshot->state);
  }
  PutU(out, dump.ops.size(), 8);
  for (std::size_t i = 0; i < dump.ops.size(); ++i) {
    const StoredOp& op = dump.ops[i];
    PutU(out, static_cast<std::uint64_t>(op.seq), 8);
    PutU(out, op.id.client_id, 8);
    PutU(out, op.id.local_seq, 8);
    out.push_back(dump.compacted[i] ? 1 : 0);
    PutStr(out, op.user_id);
    PutU(out, static_cast<std::uint64_t>(op.server_time_ms), 8);
    PutStr(out, op.parents);
    PutStr(out, op.payload);
  }
  PutU(out, Crc32(out), 4);
  return out;
}

Result<DocumentDump> DecodeDocumentDump(std::string_view bytes) {
  auto bad = [](std::string_view what) {
    return Status::Corruption("document export: " + std::string(what));
  };
  if (bytes.size() < kMagic.size() + 1 + 4 ||
      bytes.substr(0, kMagic.size()) != kMagic) {
    return bad("not a weft document export");
  }
  if (static_cast<std::uint8_t>(bytes[kMagic.size()]) != kVersion) {
    return bad(
        "unsupported version " +
        std::to_string(static_cast<unsigned char>(bytes[kMagic.size()])));
  }
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  Reader crc_reader(bytes.substr(bytes.size() - 4));
  std::uint64_t crc = 0;
  crc_reader.U(4, &crc);
  if (crc != Crc32(body)) return bad("checksum mismatch");

  Reader r(body.substr(kMagic.size() + 1));
  DocumentDump dump;
  std::uint64_t has_snapshot = 0, count = 0;
  if (!r.Str(&dump.doc_id) || !r.U(1, &has_snapshot)) return bad("truncated");
  if (has_snapshot > 1) return bad("bad snapshot flag");
  if (has_snapshot == 1) {
    Snapshot s;
    s.doc_id = dump.doc_id;
    if (!r.I64(&s.last_included_seq) || !r.I64(&s.created_ms) ||
        !r.Str(&s.state)) {
      return bad("truncated snapshot");
    }
    dump.snapshot = std::move(s);
  }
  if (!r.U(8, &count)) return bad("truncated");
  // Each op takes at least 45 bytes: reject counts the input cannot hold
  // before reserving memory for them.
  if (count > r.left() / 45) return bad("op count larger than the file");
  dump.ops.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    StoredOp op;
    std::uint64_t compacted = 0;
    if (!r.I64(&op.seq) || !r.U(8, &op.id.client_id) ||
        !r.U(8, &op.id.local_seq) || !r.U(1, &compacted) ||
        !r.Str(&op.user_id) || !r.I64(&op.server_time_ms) ||
        !r.Str(&op.parents) || !r.Str(&op.payload)) {
      return bad("truncated op " + std::to_string(i + 1));
    }
    if (compacted > 1) return bad("bad compacted flag");
    dump.compacted.push_back(compacted == 1);
    dump.ops.push_back(std::move(op));
  }
  if (r.left() != 0) return bad("trailing bytes");
  Status s = CheckDocumentDump(dump);
  if (!s.ok()) return bad(s.message());
  return dump;
}

}  // namespace weft::store
