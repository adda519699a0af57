#pragma once

#include <cstdint>
#include <random>

#include "common/status.h"
#include "core/text_doc.h"
#include "proto/message.h"

namespace weft::load {

// A simulated person typing into a TextDoc replica: mostly one character
// at the cursor, sometimes a backspace, now and then a jump to another
// place (a click), and mostly deletes once the text is long. Each edit is
// one engine transaction turned into one protocol change named by its op
// ids (docs/protocol.md). Deterministic for a seed. Not thread-safe.
class Typist {
 public:
  // `max_length`: above it the typist deletes more than it inserts.
  Typist(std::uint64_t seed, std::uint64_t max_length = 4000);

  // Makes one edit on `doc` and returns the change that carries it.
  Result<proto::Change> Edit(core::TextDoc& doc);

  std::uint64_t cursor() const { return cursor_; }

 private:
  std::mt19937_64 rng_;
  std::uint64_t max_length_;
  std::uint64_t cursor_ = 0;
};

// The change holding the operations of `doc`'s own client from seq
// `first` on (the local transaction just made, `first` being its
// OpCount before): costs what it holds, not the document's client count.
proto::Change LocalChange(const core::TextDoc& doc, std::uint32_t first);

}  // namespace weft::load
