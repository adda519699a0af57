#include "auth/mail_templates.h"

#include <gtest/gtest.h>

#include "auth/single_use_token.h"

namespace weft::auth {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(MailTemplatesTest, DescribeDuration) {
  EXPECT_EQ(DescribeDuration(hours(1)), "1 hour");
  EXPECT_EQ(DescribeDuration(hours(24 * 7)), "7 days");
  EXPECT_EQ(DescribeDuration(minutes(90)), "90 minutes");
  EXPECT_EQ(DescribeDuration(seconds(1)), "1 second");
  EXPECT_EQ(DescribeDuration(seconds(61)), "61 seconds");
  EXPECT_EQ(DescribeDuration(seconds(0)), "0 seconds");
}

TEST(MailTemplatesTest, PasswordReset) {
  MailMessage m =
      PasswordResetMail("ann@example.com", "https://weft.example/reset#wpr_abc",
                        kPasswordResetLifetime);
  EXPECT_TRUE(ValidateMailMessage(m).ok());
  EXPECT_EQ(m.to, "ann@example.com");
  EXPECT_EQ(m.subject, "Reset your weft password");
  EXPECT_NE(m.text_body.find("\nhttps://weft.example/reset#wpr_abc\n"),
            std::string::npos);
  EXPECT_NE(m.text_body.find("within 1 hour"), std::string::npos);
}

TEST(MailTemplatesTest, InvitationQuotesUserChosenNamesInTheBodyOnly) {
  MailMessage m = InvitationMail(
      "bob@example.com", "Ann", "Security team: verify your account",
      Role::kEditor, "https://weft.example/invite#win_abc",
      kInvitationLifetime);
  EXPECT_TRUE(ValidateMailMessage(m).ok());
  EXPECT_EQ(m.subject, "You are invited to a weft workspace");
  EXPECT_NE(m.text_body.find(
                "\"Ann\" invites you to the weft workspace \"Security team: "
                "verify your account\" as editor."),
            std::string::npos)
      << m.text_body;
  EXPECT_NE(m.text_body.find("\nhttps://weft.example/invite#win_abc\n"),
            std::string::npos);
  EXPECT_NE(m.text_body.find("within 7 days"), std::string::npos);
}

}  // namespace
}  // namespace weft::auth
