#pragma once

// Utf8Text: an append-only UTF-8 string addressed by code point, for the
// text a TextDoc keeps per client. It stores the bytes as they arrive (1
// byte per ASCII character instead of 4 for UTF-32) plus the byte offset of
// every kStride-th code point, so finding code point i costs one lookup and
// a scan of fewer than kStride lead bytes; all-ASCII text needs no scan.
//
// The caller appends only valid UTF-8 (validated at the API boundary) and
// passes its code point count. Not thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weft::core {

class Utf8Text {
 public:
  static constexpr uint64_t kStride = 64;

  // Appends valid UTF-8 holding exactly `code_points` code points.
  void Append(std::string_view utf8, uint64_t code_points);
  // Code points held.
  uint64_t size() const { return count_; }
  // Bytes held.
  uint64_t bytes() const { return bytes_.size(); }
  // Byte offset of code point `i` (i <= size()).
  uint64_t ByteOffset(uint64_t i) const;
  // The UTF-8 of code points [from, from + n) (from + n <= size()). Valid
  // until the next Append.
  std::string_view Slice(uint64_t from, uint64_t n) const;
  // Replaces the text with `utf8` (valid, `code_points` code points): a
  // bulk load builds the bytes first and indexes them once.
  void Assign(std::string utf8, uint64_t code_points);
  // Frees spare capacity (after a bulk load).
  void ShrinkToFit();
  // Heap bytes held, at capacity.
  size_t MemoryBytes() const;

  // Byte length of the code point whose lead byte is `lead`.
  static int SequenceLength(unsigned char lead) {
    return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  }
  // Byte offset in `utf8` (valid) after skipping `n` code points from `at`.
  static uint64_t Skip(std::string_view utf8, uint64_t at, uint64_t n);

 private:
  std::string bytes_;
  // marks_[k]: byte offset of code point k * kStride.
  std::vector<uint64_t> marks_;
  uint64_t count_ = 0;
};

}  // namespace weft::core
