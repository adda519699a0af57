#pragma once

// The Mailer contract, as a typed gtest suite every implementation runs.
// A test binary defines, for its implementation, a traits class with
//   std::unique_ptr<Mailer> Make();   // a ready mailer
//   std::size_t Delivered();          // messages it has delivered so far
// and instantiates:
//   INSTANTIATE_TYPED_TEST_SUITE_P(Name, MailerConformanceTest, Traits);

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "auth/mailer.h"

namespace weft::auth {

template <typename Traits>
class MailerConformanceTest : public ::testing::Test {
 protected:
  static MailMessage Valid() {
    return {"ann@example.com", "Hello from weft", "line one\nline two\n"};
  }
  Traits traits_;
};

TYPED_TEST_SUITE_P(MailerConformanceTest);

TYPED_TEST_P(MailerConformanceTest, DeliversValidMessage) {
  auto mailer = this->traits_.Make();
  Status s = mailer->Send(this->Valid());
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(this->traits_.Delivered(), 1u);
}

TYPED_TEST_P(MailerConformanceTest, RefusesInvalidRecipientAndSendsNothing) {
  auto mailer = this->traits_.Make();
  MailMessage m = this->Valid();
  m.to = "ann@example.com\r\nBcc: eve@example.com";
  EXPECT_EQ(mailer->Send(m).code(), StatusCode::kInvalidArgument);
  m.to = "";
  EXPECT_EQ(mailer->Send(m).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->traits_.Delivered(), 0u);
}

TYPED_TEST_P(MailerConformanceTest, RefusesMultiLineSubjectAndSendsNothing) {
  auto mailer = this->traits_.Make();
  MailMessage m = this->Valid();
  m.subject = "Hi\nBcc: eve@example.com";
  EXPECT_EQ(mailer->Send(m).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->traits_.Delivered(), 0u);
}

TYPED_TEST_P(MailerConformanceTest, ConcurrentSendsAllDeliver) {
  auto mailer = this->traits_.Make();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) EXPECT_TRUE(mailer->Send(this->Valid()).ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(this->traits_.Delivered(), 20u);
}

REGISTER_TYPED_TEST_SUITE_P(MailerConformanceTest, DeliversValidMessage,
                            RefusesInvalidRecipientAndSendsNothing,
                            RefusesMultiLineSubjectAndSendsNothing,
                            ConcurrentSendsAllDeliver);

}  // namespace weft::auth
