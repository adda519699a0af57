#include "auth/in_memory_mailer.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace weft::auth {
namespace {

MailMessage Reset(std::string to = "ann@example.com") {
  return {std::move(to), "Reset your weft password",
          "Open this link:\nhttps://weft.example/reset#wpr_x\n"};
}

TEST(InMemoryMailerTest, RecordsAcceptedMessagesInOrder) {
  InMemoryMailer mailer;
  EXPECT_TRUE(mailer.Send(Reset("a@example.com")).ok());
  EXPECT_TRUE(mailer.Send(Reset("b@example.com")).ok());
  MailMessage second_to_a = Reset("a@example.com");
  second_to_a.text_body = "second";
  EXPECT_TRUE(mailer.Send(second_to_a).ok());
  std::vector<MailMessage> sent = mailer.Messages();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].to, "a@example.com");
  EXPECT_EQ(sent[1], Reset("b@example.com"));
  EXPECT_EQ(mailer.LastTo("a@example.com")->text_body, "second");
  EXPECT_FALSE(mailer.LastTo("c@example.com").has_value());
  mailer.Clear();
  EXPECT_TRUE(mailer.Messages().empty());
}

TEST(InMemoryMailerTest, RefusesInvalidMessagesWithoutRecording) {
  InMemoryMailer mailer;
  EXPECT_EQ(mailer.Send(Reset("nobody")).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(mailer.Messages().empty());
}

TEST(InMemoryMailerTest, FailNextSimulatesTransportFailure) {
  InMemoryMailer mailer;
  mailer.FailNext(Status::Unavailable("smtp down"), 2);
  EXPECT_EQ(mailer.Send(Reset()).code(), StatusCode::kUnavailable);
  EXPECT_EQ(mailer.Send(Reset()).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(mailer.Messages().empty());
  EXPECT_TRUE(mailer.Send(Reset()).ok());
  EXPECT_EQ(mailer.Messages().size(), 1u);
}

TEST(InMemoryMailerTest, ConcurrentSendsAreAllRecorded) {
  InMemoryMailer mailer;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) EXPECT_TRUE(mailer.Send(Reset()).ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mailer.Messages().size(), 200u);
}

}  // namespace
}  // namespace weft::auth
