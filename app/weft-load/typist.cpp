#include "typist.h"

#include <string_view>

namespace weft::load {

Typist::Typist(std::uint64_t seed, std::uint64_t max_length)
    : rng_(seed), max_length_(max_length) {}

proto::Change LocalChange(const core::TextDoc& doc, std::uint32_t first) {
  std::uint64_t c = doc.client_id();
  return proto::Change{c, first, doc.OpCount(c) - first,
                       doc.EncodeClientDiff(c, first)};
}

Result<proto::Change> Typist::Edit(core::TextDoc& doc) {
  static constexpr std::string_view kLetters =
      "etaoinshrdlucmfwypvbgkqjxz      ,.\n";
  std::uint64_t len = doc.length();
  if (cursor_ > len) cursor_ = len;
  std::uniform_int_distribution<int> percent(0, 99);
  int p = percent(rng_);
  if (p < 3 || (len > 0 && cursor_ == 0 && p < 10)) {
    cursor_ = std::uniform_int_distribution<std::uint64_t>(0, len)(rng_);
  }
  auto first = static_cast<std::uint32_t>(doc.OpCount(doc.client_id()));
  int delete_percent = len > max_length_ ? 70 : 12;
  if (cursor_ > 0 && percent(rng_) < delete_percent) {
    WEFT_RETURN_IF_ERROR(doc.Delete(cursor_ - 1, 1));
    --cursor_;
  } else {
    std::size_t i = std::uniform_int_distribution<std::size_t>(
        0, kLetters.size() - 1)(rng_);
    WEFT_RETURN_IF_ERROR(doc.Insert(cursor_, kLetters.substr(i, 1)));
    ++cursor_;
  }
  return LocalChange(doc, first);
}

}  // namespace weft::load
