#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weft {

// Appends the primitives of weft's binary formats (docs/protocol.md §2):
// bytes, unsigned LEB128 varuints and length-prefixed byte strings.
class ByteWriter {
 public:
  void U8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void VarUint(std::uint64_t v);
  // varuint(length) followed by the bytes.
  void Bytes(std::string_view bytes);

  const std::string& data() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads the same primitives from untrusted bytes. Errors are sticky: after
// the first failure every read returns a zero value and status() holds the
// first error (kCorruption with a stable reason: "truncated", "overlong
// varuint", "varuint overflow", "length exceeds input", "invalid utf-8").
// It never allocates from a length it has not checked against the input,
// and never reads past the end. Views returned point into the input.
class ByteReader {
 public:
  explicit ByteReader(std::string_view input) : in_(input) {}

  std::uint8_t U8();
  std::uint64_t VarUint();
  // A varuint length followed by that many bytes.
  std::string_view Bytes();
  // Bytes() that must also be valid UTF-8.
  std::string_view Utf8();

  // Records an error found by the caller (only the first one is kept).
  void Fail(std::string reason);

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  std::size_t remaining() const { return in_.size() - pos_; }
  bool AtEnd() const { return pos_ == in_.size(); }
  // Fails with "trailing bytes" unless everything was consumed.
  Status Finish();

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  Status status_;
};

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values
// above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Decodes the code point at s[*i] (*i < s.size()) and moves *i past it;
// nullopt, *i unchanged, where `s` is not well-formed UTF-8 there.
std::optional<std::uint32_t> DecodeUtf8(std::string_view s, std::size_t* i);

}  // namespace weft
