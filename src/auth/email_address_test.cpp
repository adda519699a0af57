#include "auth/email_address.h"

#include <gtest/gtest.h>

#include <string>

namespace weft::auth {
namespace {

TEST(EmailAddressTest, AcceptsOrdinaryAddresses) {
  for (std::string_view ok :
       {"a@b.co", "ann@example.com", "Ann.Lee+weft@mail.example.org",
        "o'brien@example.ie", "x_y-z@sub-domain.example.io", "1234@example.com",
        "user@xn--bcher-kva.example"}) {
    EXPECT_TRUE(IsValidEmail(ok)) << ok;
  }
}

TEST(EmailAddressTest, RefusesMalformedAddresses) {
  for (std::string_view bad : {"",
                               "plain",
                               "@example.com",
                               "ann@",
                               "ann@@example.com",
                               "ann@b@example.com",
                               "ann@localhost",
                               "ann@example.",
                               "ann@.example.com",
                               "ann@example..com",
                               ".ann@example.com",
                               "ann.@example.com",
                               "an..n@example.com",
                               "ann@-example.com",
                               "ann@example-.com",
                               "ann@example.123",
                               "ann@[127.0.0.1]",
                               "\"ann\"@example.com",
                               "ann lee@example.com",
                               "ann@exa mple.com",
                               "ann@example.com\n",
                               "ann(comment)@example.com",
                               "ann@ex_ample.com",
                               "j\xC3\xB6rg@example.com",
                               "ann@b\303\274cher.de",
                               "ann@example.com; DROP TABLE users"}) {
    EXPECT_FALSE(IsValidEmail(bad)) << bad;
  }
}

TEST(EmailAddressTest, LengthLimits) {
  std::string local64(64, 'a');
  EXPECT_TRUE(IsValidEmail(local64 + "@example.com"));
  EXPECT_FALSE(IsValidEmail(local64 + "a@example.com"));
  std::string label63(63, 'b');
  EXPECT_TRUE(IsValidEmail("a@" + label63 + ".com"));
  EXPECT_FALSE(IsValidEmail("a@" + label63 + "b.com"));
  // 254 bytes total is the ceiling.
  std::string domain = label63 + "." + label63 + "." + label63 + ".";
  std::string at_limit = std::string(254 - 2 - domain.size() - 3, 'c');
  std::string addr = "a@" + domain + at_limit + "com";
  ASSERT_EQ(addr.size(), 254u - 0u);
  EXPECT_TRUE(IsValidEmail(addr));
  EXPECT_FALSE(IsValidEmail("a" + addr));
}

TEST(EmailAddressTest, Normalize) {
  EXPECT_EQ(NormalizeEmail("  Ann.Lee@Example.COM \t"), "ann.lee@example.com");
  EXPECT_EQ(NormalizeEmail("   "), "");
  EXPECT_EQ(NormalizeEmail("x@y.z"), "x@y.z");
}

}  // namespace
}  // namespace weft::auth
