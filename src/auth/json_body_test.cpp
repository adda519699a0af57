#include "auth/json_body.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <string>

namespace weft::auth {
namespace {

boost::json::object Parse(std::string_view text) {
  auto r = ParseJsonObjectBody(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : boost::json::object();
}

TEST(JsonBodyTest, ParseAcceptsObjectsOnly) {
  EXPECT_TRUE(ParseJsonObjectBody(R"({"a":1})").ok());
  EXPECT_TRUE(ParseJsonObjectBody(" {} ").ok());
  for (std::string_view bad :
       {"", "null", "[]", "\"x\"", "42", "{", R"({"a":1} x)", R"({"a":1}{})",
        "{'a':1}", "{\"a\":\"\xFF\"}", R"({"a":01})"}) {
    auto r = ParseJsonObjectBody(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(JsonBodyTest, ParseRefusesDuplicateKeys) {
  for (std::string_view dup :
       {R"({"role":"viewer","role":"owner"})", R"({"a":{"b":1,"b":2}})",
        R"({"a":[{"x":1,"y":2,"x":3}]})", R"({"a\u0062":1,"ab":2})"}) {
    auto r = ParseJsonObjectBody(dup);
    EXPECT_FALSE(r.ok()) << dup;
    if (!r.ok()) {
      EXPECT_EQ(r.status().message(), "request body repeats a key");
    }
  }
  // The same key in sibling objects is fine.
  EXPECT_TRUE(ParseJsonObjectBody(R"({"a":{"x":1},"b":{"x":2}})").ok());
  EXPECT_TRUE(ParseJsonObjectBody(R"({"a":[{"x":1},{"x":2}]})").ok());
}

TEST(JsonBodyTest, ParseLimitsDepth) {
  std::string deep =
      R"({"a":)" + std::string(40, '[') + std::string(40, ']') + "}";
  EXPECT_FALSE(ParseJsonObjectBody(deep).ok());
  EXPECT_TRUE(ParseJsonObjectBody(deep, 64).ok());
}

TEST(JsonBodyTest, RegisterBodyHappyPath) {
  auto body = Parse(
      R"({"email":" Ann@Example.com ","password":"  x  ","display_name":" Ann "})");
  JsonBodyValidator v(body);
  std::string email = v.RequiredEmail("email");
  v.Allow("password");
  std::string name = v.RequiredString("display_name", {1, 100});
  FieldErrors errors = v.Finish();
  EXPECT_TRUE(errors.empty()) << boost::json::serialize(errors.ToJson());
  EXPECT_EQ(email, "ann@example.com");
  EXPECT_EQ(name, "Ann");
}

TEST(JsonBodyTest, CollectsEveryFieldError) {
  auto body = Parse(
      R"({"email":"nope","display_name":7,"title":"","extra":1,"admin":true})");
  JsonBodyValidator v(body);
  v.RequiredEmail("email");
  v.RequiredString("display_name");
  v.RequiredString("title");
  v.RequiredString("missing");
  FieldErrors errors = v.Finish();
  EXPECT_EQ(boost::json::serialize(errors.ToJson()),
            R"({"admin":"unknown_field","display_name":"must_be_string",)"
            R"("email":"invalid_email","extra":"unknown_field",)"
            R"("missing":"required","title":"too_short"})");
  EXPECT_EQ(errors.ToStatus().code(), StatusCode::kInvalidArgument);
}

TEST(JsonBodyTest, LengthsCountCharactersAfterTrim) {
  StringRule rule{2, 3};
  auto body =
      Parse(R"({"a":"\u00e9\u00e9\u00e9","b":"abcd","c":" a ","d":"  ab  "})");
  JsonBodyValidator v(body);
  EXPECT_EQ(v.RequiredString("a", rule), "\xC3\xA9\xC3\xA9\xC3\xA9");
  EXPECT_EQ(v.RequiredString("b", rule), "");
  EXPECT_EQ(v.RequiredString("c", rule), "");
  EXPECT_EQ(v.RequiredString("d", rule), "ab");
  FieldErrors errors = v.Finish();
  EXPECT_EQ(errors.ReasonFor("a"), "");
  EXPECT_EQ(errors.ReasonFor("b"), "too_long");
  EXPECT_EQ(errors.ReasonFor("c"), "too_short");
  EXPECT_EQ(errors.ReasonFor("d"), "");
}

TEST(JsonBodyTest, VisibleNamesRefuseBlankOnes) {
  StringRule rule{1, 100, true, false, true};
  auto body = Parse(
      R"({"a":"\u200b\u202e\ufeff","b":"\u3000","c":"\u200bAnn","d":"x"})");
  JsonBodyValidator v(body);
  EXPECT_EQ(v.RequiredString("a", rule), "");
  EXPECT_EQ(v.RequiredString("b", rule), "");
  EXPECT_EQ(v.RequiredString("c", rule),
            "\xE2\x80\x8B"
            "Ann");
  EXPECT_EQ(v.RequiredString("d", rule), "x");
  FieldErrors errors = v.Finish();
  EXPECT_EQ(errors.ReasonFor("a"), "blank");
  EXPECT_EQ(errors.ReasonFor("b"), "blank");
  EXPECT_EQ(errors.ReasonFor("c"), "");
  EXPECT_EQ(errors.ReasonFor("d"), "");
}

TEST(JsonBodyTest, NoTrimKeepsSpaces) {
  StringRule rule;
  rule.trim = false;
  auto body = Parse(R"({"a":"  x  "})");
  JsonBodyValidator v(body);
  EXPECT_EQ(v.RequiredString("a", rule), "  x  ");
  EXPECT_TRUE(v.Finish().empty());
}

TEST(JsonBodyTest, ControlCharactersRefusedUnlessAllowed) {
  auto body = Parse(R"({"a":"x\ny","b":"x\ny","c":"x\u0000y"})");
  JsonBodyValidator v(body);
  StringRule multiline;
  multiline.allow_control = true;
  v.RequiredString("a");
  EXPECT_EQ(v.RequiredString("b", multiline), "x\ny");
  v.RequiredString("c");
  FieldErrors errors = v.Finish();
  EXPECT_EQ(errors.ReasonFor("a"), "control_characters");
  EXPECT_EQ(errors.ReasonFor("b"), "");
  EXPECT_EQ(errors.ReasonFor("c"), "control_characters");
}

TEST(JsonBodyTest, OptionalFields) {
  auto body = Parse(R"({"title":"New","archived":"yes","name":null})");
  JsonBodyValidator v(body);
  EXPECT_EQ(v.OptionalString("title"), "New");
  EXPECT_EQ(v.OptionalString("absent"), std::nullopt);
  EXPECT_EQ(v.OptionalString("name"), std::nullopt);
  EXPECT_EQ(v.OptionalBool("archived"), std::nullopt);
  EXPECT_EQ(v.OptionalBool("pinned"), std::nullopt);
  FieldErrors errors = v.Finish();
  EXPECT_EQ(errors.ReasonFor("name"), "must_be_string");
  EXPECT_EQ(errors.ReasonFor("archived"), "must_be_boolean");
  EXPECT_EQ(errors.ReasonFor("absent"), "");
  EXPECT_EQ(errors.size(), 2u);
}

TEST(JsonBodyTest, OptionalBoolReadsValues) {
  auto body = Parse(R"({"a":true,"b":false})");
  JsonBodyValidator v(body);
  EXPECT_EQ(v.OptionalBool("a"), true);
  EXPECT_EQ(v.OptionalBool("b"), false);
  EXPECT_TRUE(v.Finish().empty());
}

TEST(JsonBodyTest, EnumField) {
  auto body = Parse(R"({"kind":"board","role":"Owner","other":"x"})");
  JsonBodyValidator v(body);
  EXPECT_EQ(v.RequiredEnum("kind", {"text", "board", "canvas"}), "board");
  EXPECT_EQ(v.RequiredEnum("role", {"viewer", "editor", "owner"}), "");
  EXPECT_EQ(v.RequiredEnum("missing", {"a"}), "");
  v.Allow("other");
  FieldErrors errors = v.Finish();
  EXPECT_EQ(errors.ReasonFor("role"), "not_allowed");
  EXPECT_EQ(errors.ReasonFor("missing"), "required");
  EXPECT_EQ(errors.size(), 2u);
}

TEST(JsonBodyTest, SqlMetacharactersAreJustText) {
  auto body = Parse(
      R"({"title":"Robert'); DROP TABLE documents;--","email":"a'b@example.com"})");
  JsonBodyValidator v(body);
  EXPECT_EQ(v.RequiredString("title"), "Robert'); DROP TABLE documents;--");
  EXPECT_EQ(v.RequiredEmail("email"), "a'b@example.com");
  EXPECT_TRUE(v.Finish().empty());
}

TEST(JsonBodyTest, EmailTooLongIsReportedAsSuch) {
  std::string long_email = std::string(250, 'a') + "@example.com";
  boost::json::object body;
  body["email"] = long_email;
  JsonBodyValidator v(body);
  EXPECT_EQ(v.RequiredEmail("email"), "");
  EXPECT_EQ(v.Finish().ReasonFor("email"), "too_long");
}

}  // namespace
}  // namespace weft::auth
