#include "core/fractional_index.h"

#include <algorithm>

namespace weft::core {
namespace {

constexpr char kDigits[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr int kBase = 62;
constexpr size_t kMaxKeyLength = 1024;

// How much a key of `length` grows when it can count no further: by its
// length, but never past the limit (a key at the limit grows by one, to
// a key the caller refuses as too long).
size_t Growth(size_t length) {
  size_t room = length < kMaxKeyLength ? kMaxKeyLength - length : 0;
  return std::max<size_t>(1, std::min(length, room));
}

int Digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  if (c >= 'a' && c <= 'z') return c - 'a' + 36;
  return -1;
}

// A key after `lo` (a valid key), for an append. The midpoint towards the
// top grew a character every 6 appends ("V", "k", "s", "w", "y", "z",
// "zV", ...), so a list took only about 6,000 appends before its keys
// passed the length limit. Instead the key counts up as a base-62 number
// of its own length (the last digit runs '1'..'z', never a trailing '0'),
// and only a key of all 'z's (length L) grows, by L digits (up to the
// length limit), which makes room for about 62^L more: the length grows
// with the logarithm of the number of appends.
std::string KeyAfter(std::string_view lo) {
  std::string out(lo);
  for (size_t i = out.size(); i-- > 0;) {
    int d = Digit(out[i]);
    if (d < kBase - 1) {
      out[i] = kDigits[d + 1];
      return out;
    }
    out[i] = i + 1 == out.size() ? '1' : '0';  // carry
  }
  out.assign(lo);
  out.append(Growth(lo.size()) - 1, '0');
  out.push_back('1');
  return out;
}

// A key before `hi` (a valid key), for a prepend, as KeyAfter downwards:
// it counts down (the last digit runs 'z'..'1'), and a key "0...01" grows
// to "0...0" followed by as many 'z's, both as long as it.
std::string KeyBefore(std::string_view hi) {
  std::string out(hi);
  for (size_t i = out.size(); i-- > 0;) {
    int d = Digit(out[i]);
    int floor = i + 1 == out.size() ? 1 : 0;
    if (d > floor) {
      out[i] = kDigits[d - 1];
      return out;
    }
    out[i] = 'z';  // borrow
  }
  out.assign(hi.size(), '0');
  out.append(Growth(hi.size()), 'z');
  return out;
}

}  // namespace

std::string KeyBetween(std::string_view lo, std::string_view hi) {
  if (IsValidKey(lo) && (hi.empty() || !(lo < hi))) return KeyAfter(lo);
  if (lo.empty() && IsValidKey(hi)) return KeyBefore(hi);
  bool unbounded = hi.empty() || !(lo < hi);
  std::string out;
  for (size_t i = 0;; ++i) {
    int a = i < lo.size() ? Digit(lo[i]) : 0;
    int b = unbounded ? kBase : (i < hi.size() ? Digit(hi[i]) : 0);
    if (a < 0) a = 0;
    if (b < 0) b = kBase;
    if (b - a > 1) {
      out.push_back(kDigits[(a + b) / 2]);
      return out;
    }
    out.push_back(kDigits[a]);
    if (b > a) unbounded = true;  // out is already below hi
  }
}

bool IsValidKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength || key.back() == '0') {
    return false;
  }
  for (char c : key) {
    if (Digit(c) < 0) return false;
  }
  return true;
}

}  // namespace weft::core
