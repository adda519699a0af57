#include "auth/json_body.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <set>
#include <vector>

#include "auth/email_address.h"
#include "auth/utf8.h"

namespace weft::auth {

namespace json = boost::json;

namespace {

// A Boost.JSON SAX handler that only notices an object repeating a key.
// boost::json::parse keeps the last of duplicate keys silently; another
// component (a proxy, a client library) may keep the first, so weft
// refuses such bodies rather than guess.
class DuplicateKeyFinder {
 public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  bool found() const { return found_; }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    keys_.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t,
                      boost::system::error_code&) {
    return true;
  }
  bool on_string(json::string_view, std::size_t, boost::system::error_code&) {
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t,
                   boost::system::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code&) {
    key_.append(s.data(), s.size());
    if (!keys_.back().insert(key_).second) found_ = true;
    key_.clear();
    return true;
  }
  bool on_number_part(json::string_view, boost::system::error_code&) {
    return true;
  }
  bool on_int64(std::int64_t, json::string_view, boost::system::error_code&) {
    return true;
  }
  bool on_uint64(std::uint64_t, json::string_view, boost::system::error_code&) {
    return true;
  }
  bool on_double(double, json::string_view, boost::system::error_code&) {
    return true;
  }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(json::string_view, boost::system::error_code&) {
    return true;
  }
  bool on_comment(json::string_view, boost::system::error_code&) {
    return true;
  }

 private:
  std::vector<std::set<std::string>> keys_;
  std::string key_;
  bool found_ = false;
};

bool HasDuplicateKeys(std::string_view body, const json::parse_options& opts) {
  json::basic_parser<DuplicateKeyFinder> parser(opts);
  boost::system::error_code ec;
  parser.write_some(false, body.data(), body.size(), ec);
  return !ec && parser.handler().found();
}

}  // namespace

Result<json::object> ParseJsonObjectBody(std::string_view body,
                                         std::size_t max_depth) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = max_depth;
  json::value value = json::parse(body, ec, {}, options);
  if (ec) return Status::InvalidArgument("request body is not valid JSON");
  if (HasDuplicateKeys(body, options)) {
    return Status::InvalidArgument("request body repeats a key");
  }
  if (!value.is_object()) {
    return Status::InvalidArgument("request body must be a JSON object");
  }
  return std::move(value.as_object());
}

std::optional<std::string> JsonBodyValidator::CheckString(
    std::string_view field, const json::value& value, const StringRule& rule) {
  if (!value.is_string()) {
    errors_.Add(field, "must_be_string");
    return std::nullopt;
  }
  std::string_view text = value.as_string();
  if (rule.trim) {
    static constexpr std::string_view kSpace = " \t\r\n\f\v";
    std::size_t begin = text.find_first_not_of(kSpace);
    text = begin == std::string_view::npos
               ? std::string_view()
               : text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
  }
  std::optional<std::size_t> chars = Utf8Length(text);
  if (!chars) {
    errors_.Add(field, "invalid_utf8");
    return std::nullopt;
  }
  if (!rule.allow_control && HasControlCharacter(text)) {
    errors_.Add(field, "control_characters");
    return std::nullopt;
  }
  if (*chars < rule.min_chars) {
    errors_.Add(field, "too_short");
    return std::nullopt;
  }
  if (*chars > rule.max_chars) {
    errors_.Add(field, "too_long");
    return std::nullopt;
  }
  if (rule.visible && !HasVisibleCharacter(text)) {
    errors_.Add(field, "blank");
    return std::nullopt;
  }
  return std::string(text);
}

std::string JsonBodyValidator::RequiredString(std::string_view field,
                                              const StringRule& rule) {
  known_.emplace(field);
  auto it = body_.find(field);
  if (it == body_.end()) {
    errors_.Add(field, "required");
    return "";
  }
  return CheckString(field, it->value(), rule).value_or("");
}

std::optional<std::string> JsonBodyValidator::OptionalString(
    std::string_view field, const StringRule& rule) {
  known_.emplace(field);
  auto it = body_.find(field);
  if (it == body_.end()) return std::nullopt;
  return CheckString(field, it->value(), rule);
}

std::string JsonBodyValidator::RequiredEmail(std::string_view field) {
  StringRule rule;
  rule.max_chars = kMaxEmailBytes;
  std::string text = RequiredString(field, rule);
  if (!errors_.ReasonFor(field).empty()) return "";
  std::string email = NormalizeEmail(text);
  if (!IsValidEmail(email)) {
    errors_.Add(field, "invalid_email");
    return "";
  }
  return email;
}

std::string JsonBodyValidator::RequiredEnum(
    std::string_view field, std::initializer_list<std::string_view> allowed) {
  StringRule rule;
  rule.trim = false;
  std::string text = RequiredString(field, rule);
  if (!errors_.ReasonFor(field).empty()) return "";
  for (std::string_view option : allowed) {
    if (text == option) return text;
  }
  errors_.Add(field, "not_allowed");
  return "";
}

std::optional<bool> JsonBodyValidator::OptionalBool(std::string_view field) {
  known_.emplace(field);
  auto it = body_.find(field);
  if (it == body_.end()) return std::nullopt;
  if (!it->value().is_bool()) {
    errors_.Add(field, "must_be_boolean");
    return std::nullopt;
  }
  return it->value().as_bool();
}

void JsonBodyValidator::Allow(std::string_view field) { known_.emplace(field); }

FieldErrors JsonBodyValidator::Finish() {
  for (const auto& entry : body_) {
    std::string_view key = entry.key();
    if (known_.find(key) == known_.end()) errors_.Add(key, "unknown_field");
  }
  return errors_;
}

}  // namespace weft::auth
