#include "auth/password_policy.h"

#include <gtest/gtest.h>

#include <string>

namespace weft::auth {
namespace {

std::string_view Reason(std::string_view password,
                        const PasswordContext& context = {}) {
  static thread_local FieldErrors errors;
  errors = CheckPasswordPolicy(password, context);
  EXPECT_LE(errors.size(), 1u);
  return errors.ReasonFor("password");
}

TEST(PasswordPolicyTest, AcceptsReasonablePasswords) {
  EXPECT_EQ(Reason("correct horse battery staple"), "");
  EXPECT_EQ(Reason("Tr0ub4dor&3x"), "");
  EXPECT_EQ(Reason("  leading and trailing  "), "");
  EXPECT_EQ(Reason("\xC3\xA9t\xC3\xA9 \xC3\xA0 Paris!"), "");  // été à Paris!
}

TEST(PasswordPolicyTest, LengthBounds) {
  EXPECT_EQ(Reason(""), "required");
  EXPECT_EQ(Reason("abcdefgh9"), "too_short");  // 9 chars
  EXPECT_EQ(Reason("abcdefgh9!"), "");          // 10 chars
  // 9 code points but 18 bytes: still too short (counted in characters).
  EXPECT_EQ(Reason("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                   "\xC3\xA9\xC3\xA8"),
            "too_short");
  std::string max(1024, 'x');
  max[0] = 'y';
  EXPECT_EQ(Reason(max), "");
  EXPECT_EQ(Reason(max + "z"), "too_long");
}

TEST(PasswordPolicyTest, RejectsBadBytes) {
  EXPECT_EQ(Reason("abcdefghij\xFF"), "invalid_utf8");
  EXPECT_EQ(Reason("abcdefghij\n"), "control_characters");
  EXPECT_EQ(Reason(std::string("abcde\0fghij", 11)), "control_characters");
}

TEST(PasswordPolicyTest, RejectsWeakShapes) {
  EXPECT_EQ(Reason("            "), "all_whitespace");
  EXPECT_EQ(Reason("\xE3\x80\x80\xE3\x80\x80\xE3\x80\x80\xE3\x80\x80\xE3\x80"
                   "\x80 \xC2\xA0     "),
            "all_whitespace");
  EXPECT_EQ(Reason("aaaaaaaaaaaa"), "repeated_character");
  EXPECT_EQ(Reason("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                   "\xC3\xA9\xC3\xA9\xC3\xA9"),
            "repeated_character");
  EXPECT_EQ(Reason("aaaaaaaaaab"), "");
}

TEST(PasswordPolicyTest, RejectsCommonPasswordsIgnoringCase) {
  EXPECT_EQ(Reason("password123"), "too_common");
  EXPECT_EQ(Reason("PassWord123"), "too_common");
  EXPECT_EQ(Reason("qwertyuiop"), "too_common");
  EXPECT_EQ(Reason("1234567890"), "too_common");
  EXPECT_EQ(Reason("password1235"), "");
}

TEST(PasswordPolicyTest, RejectsPersonalInfo) {
  PasswordContext context{"Alice.Smith@example.com", "Alice in Wonderland"};
  EXPECT_EQ(Reason("alice.smith@example.com", context),
            "contains_personal_info");
  EXPECT_EQ(Reason("ALICE.SMITH", context), "contains_personal_info");
  EXPECT_EQ(Reason("alice in wonderland", context), "contains_personal_info");
  EXPECT_EQ(Reason("alice.smith.rocks", context), "");
  // An empty context matches nothing.
  EXPECT_EQ(Reason("alice.smith"), "");
}

TEST(PasswordPolicyTest, UsesTheGivenFieldAndOptions) {
  PasswordPolicyOptions options;
  options.min_chars = 4;
  options.max_bytes = 8;
  FieldErrors ok = CheckPasswordPolicy("abcd", {}, "new_password", options);
  EXPECT_TRUE(ok.empty());
  FieldErrors errors =
      CheckPasswordPolicy("abcdefghi", {}, "new_password", options);
  EXPECT_EQ(errors.ReasonFor("new_password"), "too_long");
  EXPECT_EQ(errors.ReasonFor("password"), "");
}

TEST(PasswordPolicyTest, MaxBytesNeverExceedsHasherLimit) {
  PasswordPolicyOptions options;
  options.max_bytes = 1 << 20;
  std::string huge(2000, 'x');
  huge[0] = 'y';
  EXPECT_EQ(
      CheckPasswordPolicy(huge, {}, "password", options).ReasonFor("password"),
      "too_long");
}

}  // namespace
}  // namespace weft::auth
