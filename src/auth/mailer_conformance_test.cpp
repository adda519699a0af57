// Runs the Mailer contract against the implementations in weft_auth. The
// SMTP mailer runs it in smtp_mailer_test.cpp, against a fake server.
#include "auth/mailer_conformance_test.h"

#include <atomic>

#include "auth/in_memory_mailer.h"
#include "auth/log_mailer.h"

namespace weft::auth {
namespace {

class InMemoryTraits {
 public:
  std::unique_ptr<Mailer> Make() {
    auto mailer = std::make_unique<InMemoryMailer>();
    mailer_ = mailer.get();
    return mailer;
  }
  std::size_t Delivered() { return mailer_->Messages().size(); }

 private:
  InMemoryMailer* mailer_ = nullptr;
};

class LogTraits {
 public:
  std::unique_ptr<Mailer> Make() {
    return std::make_unique<LogMailer>(
        [this](std::string_view) { lines_.fetch_add(1); });
  }
  std::size_t Delivered() { return lines_.load(); }

 private:
  std::atomic<std::size_t> lines_{0};
};

INSTANTIATE_TYPED_TEST_SUITE_P(InMemory, MailerConformanceTest, InMemoryTraits);
INSTANTIATE_TYPED_TEST_SUITE_P(Log, MailerConformanceTest, LogTraits);

}  // namespace
}  // namespace weft::auth
