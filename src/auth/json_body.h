#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "auth/field_errors.h"
#include "common/status.h"

namespace weft::auth {

// Parses a request body that must be one JSON object. InvalidArgument
// ("request body is not valid JSON" / "... must be a JSON object" /
// "... repeats a key") for anything else, including invalid UTF-8 in
// strings, nesting deeper than `max_depth`, trailing bytes, and an object
// (at any depth) that repeats a key, which parsers disagree about. Never
// throws. (The body size is capped by the HTTP layer before this is called.)
Result<boost::json::object> ParseJsonObjectBody(std::string_view body,
                                                std::size_t max_depth = 16);

// How a string field is checked. Lengths count Unicode code points.
struct StringRule {
  std::size_t min_chars = 1;  // 0 allows ""
  std::size_t max_chars = 256;
  bool trim = true;            // strip surrounding ASCII whitespace first
  bool allow_control = false;  // allow U+0000..U+001F and DEL (multi-line)
  // Must hold a character that shows (auth/utf8.h, HasVisibleCharacter):
  // names and titles, which would otherwise be blank or look like
  // someone else's.
  bool visible = false;
};

// Reads the fields of a parsed JSON request body, checking each, and
// collects field-level errors instead of stopping at the first:
//
//   JsonBodyValidator v(body);
//   std::string email = v.RequiredEmail("email");
//   std::string name = v.RequiredString("display_name", {1, 100});
//   FieldErrors errors = v.Finish();   // also rejects unknown fields
//   if (!errors.empty()) return 400 with details = errors.ToJson();
//
// Reason codes (stable; docs/auth.md):
//   required, must_be_string, must_be_boolean, too_short, too_long,
//   invalid_utf8, control_characters, invalid_email, not_allowed,
//   unknown_field.
// A failed read returns an empty/nullopt value; callers use values only
// when Finish() reports no errors. Every field read or Allow()ed counts as
// known. Not thread-safe; one per request. The body must outlive it.
class JsonBodyValidator {
 public:
  explicit JsonBodyValidator(const boost::json::object& body) : body_(body) {}

  // A string that must be present (not null).
  std::string RequiredString(std::string_view field,
                             const StringRule& rule = {});
  // nullopt when absent; an error ("must_be_string") when present but null
  // or another type.
  std::optional<std::string> OptionalString(std::string_view field,
                                            const StringRule& rule = {});
  // A required email address, normalised (email_address.h).
  std::string RequiredEmail(std::string_view field);
  // A required string that must be one of `allowed` (exact match), e.g. a
  // role or a document kind. Reason "not_allowed" otherwise.
  std::string RequiredEnum(std::string_view field,
                           std::initializer_list<std::string_view> allowed);
  std::optional<bool> OptionalBool(std::string_view field);
  // Marks `field` as known without reading it (the caller reads it).
  void Allow(std::string_view field);

  // Adds "unknown_field" for every body key neither read nor allowed, and
  // returns all errors (empty when the body is acceptable).
  FieldErrors Finish();

  const FieldErrors& errors() const { return errors_; }

 private:
  // Checks a present string value against `rule`; returns it (trimmed)
  // or nullopt after recording an error.
  std::optional<std::string> CheckString(std::string_view field,
                                         const boost::json::value& value,
                                         const StringRule& rule);

  const boost::json::object& body_;
  std::set<std::string, std::less<>> known_;
  FieldErrors errors_;
};

}  // namespace weft::auth
