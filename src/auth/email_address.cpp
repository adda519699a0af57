#include "auth/email_address.h"

namespace weft::auth {
namespace {

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

bool IsLocalChar(char c) {
  static constexpr std::string_view kSpecials = "!#$%&'*+/=?^_`{|}~-.";
  return IsAsciiAlnum(c) || kSpecials.find(c) != std::string_view::npos;
}

bool IsValidLocalPart(std::string_view local) {
  if (local.empty() || local.size() > 64) return false;
  if (local.front() == '.' || local.back() == '.') return false;
  if (local.find("..") != std::string_view::npos) return false;
  for (char c : local) {
    if (!IsLocalChar(c)) return false;
  }
  return true;
}

bool IsValidLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!IsAsciiAlnum(c) && c != '-') return false;
  }
  return true;
}

bool IsValidDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t labels = 0;
  std::string_view last;
  while (true) {
    std::size_t dot = domain.find('.');
    std::string_view label = domain.substr(0, dot);
    if (!IsValidLabel(label)) return false;
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  if (labels < 2) return false;
  bool all_digits = true;
  for (char c : last) {
    if (c < '0' || c > '9') all_digits = false;
  }
  return !all_digits;
}

}  // namespace

bool IsValidEmail(std::string_view text) {
  if (text.size() > kMaxEmailBytes) return false;
  std::size_t at = text.find('@');
  if (at == std::string_view::npos ||
      text.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return IsValidLocalPart(text.substr(0, at)) &&
         IsValidDomain(text.substr(at + 1));
}

std::string NormalizeEmail(std::string_view text) {
  static constexpr std::string_view kSpace = " \t\r\n\f\v";
  std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return "";
  std::size_t end = text.find_last_not_of(kSpace);
  std::string out(text.substr(begin, end - begin + 1));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace weft::auth
