#include "core/fractional_index.h"

namespace weft::core {
namespace {

constexpr char kDigits[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr int kBase = 62;

int Digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  if (c >= 'a' && c <= 'z') return c - 'a' + 36;
  return -1;
}

}  // namespace

std::string KeyBetween(std::string_view lo, std::string_view hi) {
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
  if (key.empty() || key.size() > 1024 || key.back() == '0') return false;
  for (char c : key) {
    if (Digit(c) < 0) return false;
  }
  return true;
}

}  // namespace weft::core
