#include "auth/field_errors.h"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

namespace weft::auth {
namespace {

TEST(FieldErrorsTest, EmptyIsOk) {
  FieldErrors errors;
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(errors.ToStatus().ok());
  EXPECT_TRUE(errors.ToJson().empty());
}

TEST(FieldErrorsTest, FirstReasonPerFieldWins) {
  FieldErrors errors;
  errors.Add("password", "too_short");
  errors.Add("password", "all_whitespace");
  errors.Add("email", "invalid_email");
  EXPECT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors.ReasonFor("password"), "too_short");
  EXPECT_EQ(errors.ReasonFor("email"), "invalid_email");
  EXPECT_EQ(errors.ReasonFor("name"), "");
}

TEST(FieldErrorsTest, JsonAndStatus) {
  FieldErrors errors;
  errors.Add("password", "too_short");
  errors.Add("email", "required");
  EXPECT_EQ(boost::json::serialize(errors.ToJson()),
            R"({"email":"required","password":"too_short"})");
  Status status = errors.ToStatus();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "invalid fields: email, password");
}

TEST(FieldErrorsTest, MergeKeepsExistingReasons) {
  FieldErrors a;
  a.Add("email", "required");
  FieldErrors b;
  b.Add("email", "invalid_email");
  b.Add("name", "too_long");
  a.Merge(b);
  EXPECT_EQ(a.ReasonFor("email"), "required");
  EXPECT_EQ(a.ReasonFor("name"), "too_long");
}

}  // namespace
}  // namespace weft::auth
