#include "auth/log_mailer.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

namespace weft::auth {
namespace {

MailMessage Reset(std::string to = "ann@example.com") {
  return {std::move(to), "Reset your weft password",
          "Open this link:\nhttps://weft.example/reset#wpr_x\n"};
}

TEST(LogMailerTest, WritesOneJsonLinePerMessage) {
  std::vector<std::string> lines;
  LogMailer mailer([&](std::string_view line) { lines.emplace_back(line); });
  ASSERT_TRUE(mailer.Send(Reset()).ok());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find('\n'), std::string::npos);
  boost::json::value v = boost::json::parse(lines[0]);
  EXPECT_EQ(v.at("event").as_string(), "mail");
  EXPECT_EQ(v.at("to").as_string(), "ann@example.com");
  EXPECT_EQ(v.at("subject").as_string(), "Reset your weft password");
  EXPECT_EQ(v.at("body").as_string(), Reset().text_body);
}

TEST(LogMailerTest, InvalidMessageWritesNothing) {
  int calls = 0;
  LogMailer mailer([&](std::string_view) { ++calls; });
  MailMessage m = Reset();
  m.subject = "a\nb";
  EXPECT_EQ(mailer.Send(m).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace weft::auth
