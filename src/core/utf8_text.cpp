#include "core/utf8_text.h"

#include "common/check.h"

namespace weft::core {

uint64_t Utf8Text::Skip(std::string_view utf8, uint64_t at, uint64_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  for (; n > 0; --n) at += SequenceLength(p[at]);
  return at;
}

void Utf8Text::Append(std::string_view utf8, uint64_t code_points) {
  if (utf8.size() == 1) {  // one typed ASCII character
    if (count_ % kStride == 0) marks_.push_back(bytes_.size());
    bytes_.push_back(utf8[0]);
    ++count_;
    return;
  }
  const uint64_t base = bytes_.size();
  bytes_.append(utf8);
  const uint64_t end = count_ + code_points;
  // The next code point that needs a mark, and its byte offset.
  uint64_t cp = (count_ + kStride - 1) / kStride * kStride;
  if (cp < end) {
    if (code_points == utf8.size()) {  // ASCII: offsets are direct
      for (; cp < end; cp += kStride) marks_.push_back(base + (cp - count_));
    } else {
      uint64_t at = Skip(bytes_, base, cp - count_);
      for (;;) {
        marks_.push_back(at);
        if (cp + kStride >= end) break;
        at = Skip(bytes_, at, kStride);
        cp += kStride;
      }
    }
  }
  count_ = end;
}

uint64_t Utf8Text::ByteOffset(uint64_t i) const {
  WEFT_CHECK(i <= count_);
  if (bytes_.size() == count_) return i;  // all ASCII
  if (i == count_) return bytes_.size();
  return Skip(bytes_, marks_[i / kStride], i % kStride);
}

std::string_view Utf8Text::Slice(uint64_t from, uint64_t n) const {
  WEFT_CHECK(from + n <= count_);
  const uint64_t a = ByteOffset(from);
  const uint64_t b = n <= kStride ? Skip(bytes_, a, n) : ByteOffset(from + n);
  return std::string_view(bytes_).substr(a, b - a);
}

void Utf8Text::Assign(std::string utf8, uint64_t code_points) {
  bytes_ = std::move(utf8);
  count_ = code_points;
  marks_.clear();
  marks_.reserve((code_points + kStride - 1) / kStride);
  if (code_points == bytes_.size()) {  // ASCII: offsets are direct
    for (uint64_t cp = 0; cp < code_points; cp += kStride) marks_.push_back(cp);
    return;
  }
  uint64_t at = 0;
  for (uint64_t cp = 0; cp < code_points; cp += kStride) {
    marks_.push_back(at);
    if (cp + kStride < code_points) at = Skip(bytes_, at, kStride);
  }
}

void Utf8Text::ShrinkToFit() {
  bytes_.shrink_to_fit();
  marks_.shrink_to_fit();
}

size_t Utf8Text::MemoryBytes() const {
  // A short string lives inside the object (no heap).
  size_t heap = bytes_.capacity() > 15 ? bytes_.capacity() + 1 : 0;
  return heap + marks_.capacity() * sizeof(uint64_t);
}

}  // namespace weft::core
