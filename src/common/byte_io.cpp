#include "common/byte_io.h"

namespace weft {

void ByteWriter::VarUint(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void ByteWriter::Bytes(std::string_view bytes) {
  VarUint(bytes.size());
  out_.append(bytes);
}

void ByteReader::Fail(std::string reason) {
  if (status_.ok()) {
    status_ = Status::Corruption(std::move(reason) + " at byte " +
                                 std::to_string(pos_));
  }
  pos_ = in_.size();
}

std::uint8_t ByteReader::U8() {
  if (!ok()) return 0;
  if (pos_ >= in_.size()) {
    Fail("truncated");
    return 0;
  }
  return static_cast<std::uint8_t>(in_[pos_++]);
}

std::uint64_t ByteReader::VarUint() {
  std::uint64_t value = 0;
  for (int i = 0; i < 10; ++i) {
    if (!ok()) return 0;
    if (pos_ >= in_.size()) {
      Fail("truncated");
      return 0;
    }
    auto byte = static_cast<std::uint8_t>(in_[pos_++]);
    if (i == 9 && byte > 1) {
      Fail("varuint overflow");
      return 0;
    }
    value |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (byte == 0 && i > 0) {
        Fail("overlong varuint");
        return 0;
      }
      return value;
    }
  }
  Fail("varuint overflow");
  return 0;
}

std::string_view ByteReader::Bytes() {
  std::uint64_t n = VarUint();
  if (!ok()) return {};
  if (n > remaining()) {
    Fail("length exceeds input");
    return {};
  }
  std::string_view out = in_.substr(pos_, static_cast<std::size_t>(n));
  pos_ += static_cast<std::size_t>(n);
  return out;
}

std::string_view ByteReader::Utf8() {
  std::string_view s = Bytes();
  if (ok() && !IsValidUtf8(s)) {
    Fail("invalid utf-8");
    return {};
  }
  return s;
}

Status ByteReader::Finish() {
  if (ok() && !AtEnd()) Fail("trailing bytes");
  return status_;
}

std::optional<std::uint32_t> DecodeUtf8(std::string_view s, std::size_t* i) {
  auto c = static_cast<std::uint8_t>(s[*i]);
  if (c < 0x80) {
    ++*i;
    return c;
  }
  int n;
  std::uint32_t cp;
  if ((c & 0xe0) == 0xc0) {
    n = 1;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 2;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 3;
    cp = c & 0x07;
  } else {
    return std::nullopt;
  }
  // The last continuation byte is at *i + n.
  if (*i + static_cast<std::size_t>(n) >= s.size()) return std::nullopt;
  for (int k = 1; k <= n; ++k) {
    auto cc = static_cast<std::uint8_t>(s[*i + static_cast<std::size_t>(k)]);
    if ((cc & 0xc0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (cc & 0x3f);
  }
  static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return std::nullopt;
  }
  *i += static_cast<std::size_t>(n) + 1;
  return cp;
}

bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (!DecodeUtf8(s, &i)) return false;
  }
  return true;
}

}  // namespace weft
