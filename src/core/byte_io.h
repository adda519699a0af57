#pragma once

// Little building blocks of weft's binary formats (docs/format.md):
// bytes, LEB128 varuints. ByteReader never reads past its input and reports
// every malformed field as kCorruption. Not thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::core {

class ByteWriter {
 public:
  void U8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void VarUint(uint64_t v) {
    while (v >= 0x80) {
      buf_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    buf_.push_back(static_cast<char>(v));
  }
  // Zigzag-encoded signed varint: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ...
  void VarSint(int64_t v) {
    VarUint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  // varuint(length) followed by the bytes.
  void LengthPrefixed(std::string_view bytes) {
    VarUint(bytes.size());
    buf_.append(bytes);
  }
  std::string& buffer() { return buf_; }
  std::string Take() { return std::move(buf_); }

 private:
  std::string buf_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool AtEnd() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }

  Status U8(uint8_t* v) {
    if (pos_ >= in_.size()) return Status::Corruption("unexpected end");
    *v = static_cast<uint8_t>(in_[pos_++]);
    return Status::Ok();
  }
  // At most 10 bytes; rejects values that do not fit in 64 bits.
  Status VarUint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return Status::Corruption("unexpected end");
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) return Status::Corruption("varuint overflow");
      r |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) {
        *v = r;
        return Status::Ok();
      }
    }
    return Status::Corruption("varuint too long");
  }
  // A varuint that must be <= max.
  Status VarUintMax(uint64_t max, uint64_t* v) {
    WEFT_RETURN_IF_ERROR(VarUint(v));
    if (*v > max) return Status::Corruption("value out of range");
    return Status::Ok();
  }
  Status VarSint(int64_t* v) {
    uint64_t u = 0;
    WEFT_RETURN_IF_ERROR(VarUint(&u));
    *v = static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
    return Status::Ok();
  }
  // A seq given as a signed delta from `base`; must land in [0, 2^32 - 1).
  Status SeqDelta(uint32_t base, uint32_t* seq) {
    int64_t d = 0;
    WEFT_RETURN_IF_ERROR(VarSint(&d));
    if (d < -int64_t{base} || d >= int64_t{UINT32_MAX} - int64_t{base}) {
      return Status::Corruption("seq out of range");
    }
    *seq = static_cast<uint32_t>(int64_t{base} + d);
    return Status::Ok();
  }
  Status U32(uint32_t* v) {
    uint64_t x = 0;
    WEFT_RETURN_IF_ERROR(VarUintMax(UINT32_MAX, &x));
    *v = static_cast<uint32_t>(x);
    return Status::Ok();
  }
  Status Bytes(uint64_t n, std::string_view* out) {
    if (n > remaining()) return Status::Corruption("length past the end");
    *out = in_.substr(pos_, n);
    pos_ += n;
    return Status::Ok();
  }
  Status LengthPrefixed(std::string_view* out) {
    uint64_t n = 0;
    WEFT_RETURN_IF_ERROR(VarUint(&n));
    return Bytes(n, out);
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace weft::core
