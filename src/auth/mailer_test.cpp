#include "auth/mailer.h"

#include <gtest/gtest.h>

#include <string>

namespace weft::auth {
namespace {

MailMessage Reset(std::string to = "ann@example.com") {
  return {std::move(to), "Reset your weft password",
          "Open this link:\nhttps://weft.example/reset#wpr_x\n"};
}

TEST(MailerTest, ValidateRefusesHeaderInjection) {
  EXPECT_TRUE(ValidateMailMessage(Reset()).ok());
  MailMessage m = Reset();
  m.subject = "Hi\r\nBcc: victim@example.com";
  EXPECT_EQ(ValidateMailMessage(m).code(), StatusCode::kInvalidArgument);
  m = Reset("ann@example.com\r\nBcc: victim@example.com");
  EXPECT_EQ(ValidateMailMessage(m).code(), StatusCode::kInvalidArgument);
  m = Reset("not an address");
  EXPECT_FALSE(ValidateMailMessage(m).ok());
  m = Reset();
  m.subject = "";
  EXPECT_FALSE(ValidateMailMessage(m).ok());
  m.subject = std::string(201, 's');
  EXPECT_FALSE(ValidateMailMessage(m).ok());
  m = Reset();
  m.text_body = "bad \xFF byte";
  EXPECT_FALSE(ValidateMailMessage(m).ok());
}

}  // namespace
}  // namespace weft::auth
