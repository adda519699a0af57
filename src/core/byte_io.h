#pragma once

// Little building blocks of weft's binary formats (docs/format.md):
// bytes, LEB128 varuints. ByteReader never reads past its input and reports
// every malformed field as kCorruption. Not thread-safe.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/status.h"
#include "core/inline.h"

namespace weft::core {

// Copies n > 0 bytes from `from` to `to` eight at a time (inline, where a
// memcpy call costs more than the copy for the short runs of a bulk
// load), reading and writing up to 7 bytes past n: the caller makes sure
// both buffers extend that far. `from` may overlap `to` only from 8 or
// more bytes before it (an LZ match repeating earlier output).
inline void WildCopy(char* to, const char* from, size_t n) {
  char* const end = to + n;
  do {
    uint64_t w;
    std::memcpy(&w, from, 8);
    std::memcpy(to, &w, 8);
    to += 8;
    from += 8;
  } while (to < end);
}

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

// The varuint at p (before end): its value and the byte after it, or
// (next == nullptr) what is wrong. At most 10 bytes, value < 2^64. Returns
// by value (no pointer into the caller's reader), so an inlined reader's
// fields stay in registers. Shared by ByteReader and BulkReader.
struct DecodedVarUint {
  uint64_t value;
  const uint8_t* next;
  const char* error;
};
inline DecodedVarUint DecodeVarUint(const uint8_t* p, const uint8_t* end) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p == end) return {0, nullptr, "unexpected end"};
    const uint8_t b = *p++;
    if (shift == 63 && b > 1) return {0, nullptr, "varuint overflow"};
    r |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return {r, p, nullptr};
  }
  return {0, nullptr, "varuint too long"};
}

inline int64_t ZigZagDecode(uint64_t u) {
  return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
}

// *seq = base + d if that lies in [0, 2^32 - 1); false (and *seq
// unchanged) if not. (Unsigned: a d below -base wraps to 2^63 or more.)
inline bool SeqFromDelta(uint32_t base, int64_t d, uint32_t* seq) {
  const uint64_t s = uint64_t{base} + static_cast<uint64_t>(d);
  if (s >= UINT32_MAX) return false;
  *seq = static_cast<uint32_t>(s);
  return true;
}

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
    const auto* p = reinterpret_cast<const uint8_t*>(in_.data());
    const DecodedVarUint d = DecodeVarUint(p + pos_, p + in_.size());
    if (d.next == nullptr) return Status::Corruption(d.error);
    *v = d.value;
    pos_ = static_cast<size_t>(d.next - p);
    return Status::Ok();
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
    *v = ZigZagDecode(u);
    return Status::Ok();
  }
  // A seq given as a signed delta from `base`; must land in [0, 2^32 - 1).
  Status SeqDelta(uint32_t base, uint32_t* seq) {
    int64_t d = 0;
    WEFT_RETURN_IF_ERROR(VarSint(&d));
    if (!SeqFromDelta(base, d, seq)) {
      return Status::Corruption("seq out of range");
    }
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

// ByteReader's twin for bulk decoding loops (snapshots): reads return the
// value itself, and failure is sticky: after the first malformed field
// every read returns 0 (empty for bytes) and failed() is true, so a loop
// checks once per record instead of once per field. Values read after a
// failure are meaningless but harmless (0); callers must check failed()
// before they allocate by, or index with, a value. Never reads past its
// input. Not thread-safe.
class BulkReader {
 public:
  explicit BulkReader(std::string_view in)
      : p_(reinterpret_cast<const uint8_t*>(in.data())), end_(p_ + in.size()) {}

  bool failed() const { return error_ != nullptr; }
  // What went wrong first (nullptr if nothing did).
  const char* error() const { return error_; }
  Status status() const {
    return failed() ? Status::Corruption(error_) : Status::Ok();
  }
  bool AtEnd() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  WEFT_INLINE uint8_t U8() {
    if (p_ != end_) return *p_++;
    return static_cast<uint8_t>(Fail("unexpected end"));
  }
  WEFT_INLINE uint64_t VarUint() {
    if (end_ - p_ >= 2) {  // one or two bytes, the usual case, inline
      const uint64_t b0 = p_[0];
      if (b0 < 0x80) {
        ++p_;
        return b0;
      }
      const uint64_t b1 = p_[1];
      if (b1 < 0x80) {
        p_ += 2;
        return (b0 & 0x7F) | b1 << 7;
      }
    }
    const DecodedVarUint d = DecodeVarUint(p_, end_);
    if (d.next == nullptr) return Fail(d.error);
    p_ = d.next;
    return d.value;
  }
  // A varuint that must be <= max.
  WEFT_INLINE uint64_t VarUintMax(uint64_t max) {
    const uint64_t v = VarUint();
    return v <= max ? v : Fail("value out of range");
  }
  // A seq given as a zigzag delta from `base`; must land in
  // [0, 2^32 - 1) (see ByteReader::SeqDelta).
  WEFT_INLINE uint32_t SeqDelta(uint32_t base) {
    uint32_t seq = 0;
    if (!SeqFromDelta(base, ZigZagDecode(VarUint()), &seq)) {
      Fail("seq out of range");
    }
    return seq;
  }
  WEFT_INLINE std::string_view Bytes(uint64_t n) {
    if (n > remaining()) {
      Fail("length past the end");
      return {};
    }
    std::string_view out(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return out;
  }
  WEFT_INLINE std::string_view LengthPrefixed() { return Bytes(VarUint()); }
  // Records a failure of the caller's own checks (the first one wins);
  // returns 0.
  uint64_t Fail(const char* what) {
    if (error_ == nullptr) error_ = what;
    p_ = end_;
    return 0;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const char* error_ = nullptr;
};

}  // namespace weft::core
