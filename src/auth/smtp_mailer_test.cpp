#include "auth/smtp_mailer.h"

#include "auth/mailer_conformance_test.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace weft::auth {
namespace {

// A minimal SMTP server on 127.0.0.1 for one connection at a time: enough
// of RFC 5321 for libcurl (EHLO without STARTTLS, MAIL, RCPT, DATA, QUIT).
// Records the commands and the DATA it received.
class FakeSmtpServer {
 public:
  explicit FakeSmtpServer(int rcpt_reply = 250) : rcpt_reply_(rcpt_reply) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
              0);
    EXPECT_EQ(listen(listen_fd_, 4), 0);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeSmtpServer() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    thread_.join();
  }

  int port() const { return port_; }
  std::vector<std::string> Commands() {
    std::lock_guard<std::mutex> lock(mu_);
    return commands_;
  }
  std::vector<std::string> Data() {
    std::lock_guard<std::mutex> lock(mu_);
    return data_;
  }

 private:
  void Serve() {
    while (!stop_) {
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      Session(fd);
      close(fd);
    }
  }

  static void Reply(int fd, const std::string& line) {
    std::string out = line + "\r\n";
    (void)!write(fd, out.data(), out.size());
  }

  void Session(int fd) {
    Reply(fd, "220 fake ESMTP");
    std::string buffer;
    bool in_data = false;
    std::string data;
    char chunk[4096];
    while (true) {
      std::size_t eol;
      while ((eol = buffer.find("\r\n")) != std::string::npos) {
        std::string line = buffer.substr(0, eol);
        buffer.erase(0, eol + 2);
        if (in_data) {
          if (line == ".") {
            in_data = false;
            std::lock_guard<std::mutex> lock(mu_);
            data_.push_back(data);
            data.clear();
            Reply(fd, "250 queued");
          } else {
            data += line + "\r\n";
          }
          continue;
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          commands_.push_back(line);
        }
        if (line.rfind("EHLO", 0) == 0) {
          Reply(fd, "250-fake");
          Reply(fd, "250 8BITMIME");
        } else if (line.rfind("MAIL FROM:", 0) == 0) {
          Reply(fd, "250 ok");
        } else if (line.rfind("RCPT TO:", 0) == 0) {
          Reply(fd, rcpt_reply_ == 250
                        ? "250 ok"
                        : std::to_string(rcpt_reply_) + " no such user");
        } else if (line == "DATA") {
          in_data = true;
          Reply(fd, "354 go ahead");
        } else if (line == "QUIT") {
          Reply(fd, "221 bye");
          return;
        } else {
          Reply(fd, "502 not implemented");
        }
      }
      ssize_t n = read(fd, chunk, sizeof chunk);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
  }

  int rcpt_reply_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> commands_;
  std::vector<std::string> data_;
};

SmtpOptions LocalOptions(int port) {
  SmtpOptions o;
  o.url = "smtp://127.0.0.1:" + std::to_string(port);
  o.from = "noreply@weft.example";
  o.require_tls = false;
  o.timeout = std::chrono::seconds(10);
  return o;
}

MailMessage Message() {
  return {"ann@example.com", "Your invitation", "Join us:\n.https://x/y\n"};
}

TEST(SmtpMailerTest, CreateValidatesOptions) {
  ManualClock clock;
  SmtpOptions o = LocalOptions(25);
  EXPECT_TRUE(SmtpMailer::Create(o, clock).ok());
  o.url = "http://example.com";
  EXPECT_EQ(SmtpMailer::Create(o, clock).status().code(),
            StatusCode::kInvalidArgument);
  o = LocalOptions(25);
  o.from = "nobody";
  EXPECT_FALSE(SmtpMailer::Create(o, clock).ok());
  o = LocalOptions(25);
  o.from_name = "a\r\nBcc: x@y.z";
  EXPECT_FALSE(SmtpMailer::Create(o, clock).ok());
  o = LocalOptions(25);
  o.username = "user";
  EXPECT_FALSE(SmtpMailer::Create(o, clock).ok());
  o = LocalOptions(25);
  o.timeout = std::chrono::seconds(0);
  EXPECT_FALSE(SmtpMailer::Create(o, clock).ok());
  SmtpOptions defaults;
  EXPECT_TRUE(defaults.require_tls);
  EXPECT_EQ(defaults.from_name, "weft");
}

TEST(SmtpMailerTest, DeliversToTheServer) {
  FakeSmtpServer server;
  ManualClock clock(FromUnixSeconds(1'700'000'000));
  auto mailer = SmtpMailer::Create(LocalOptions(server.port()), clock);
  ASSERT_TRUE(mailer.ok());
  Status s = (*mailer)->Send(Message());
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<std::string> commands = server.Commands();
  ASSERT_GE(commands.size(), 4u);
  EXPECT_EQ(commands[0].rfind("EHLO", 0), 0u);
  EXPECT_EQ(commands[1].rfind("MAIL FROM:<noreply@weft.example>", 0), 0u);
  EXPECT_EQ(commands[2], "RCPT TO:<ann@example.com>");
  EXPECT_EQ(commands[3], "DATA");
  std::vector<std::string> data = server.Data();
  ASSERT_EQ(data.size(), 1u);
  EXPECT_NE(data[0].find("Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"),
            std::string::npos);
  EXPECT_NE(data[0].find("To: <ann@example.com>\r\n"), std::string::npos);
  EXPECT_NE(data[0].find("Subject: Your invitation\r\n"), std::string::npos);
  EXPECT_NE(data[0].find("Message-ID: <"), std::string::npos);
  EXPECT_NE(data[0].find("@weft.example>\r\n"), std::string::npos);
  // The body survives the trip (base64 after the blank line).
  std::string body64 = data[0].substr(data[0].find("\r\n\r\n") + 4);
  std::string body(body64.size(), '\0');
  std::size_t len = 0;
  ASSERT_EQ(sodium_base642bin(reinterpret_cast<unsigned char*>(body.data()),
                              body.size(), body64.data(), body64.size(), "\r\n",
                              &len, nullptr, sodium_base64_VARIANT_ORIGINAL),
            0);
  body.resize(len);
  EXPECT_EQ(body, "Join us:\r\n.https://x/y\r\n");
}

TEST(SmtpMailerTest, RefusedRecipientIsFailedPrecondition) {
  FakeSmtpServer server(550);
  ManualClock clock;
  auto mailer = SmtpMailer::Create(LocalOptions(server.port()), clock);
  ASSERT_TRUE(mailer.ok());
  Status s = (*mailer)->Send(Message());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_TRUE(server.Data().empty());
}

TEST(SmtpMailerTest, RequiredTlsWithoutStartTlsIsUnavailable) {
  FakeSmtpServer server;  // does not offer STARTTLS
  ManualClock clock;
  SmtpOptions o = LocalOptions(server.port());
  o.require_tls = true;
  o.username = "user";
  o.password = "s3cret-password";
  auto mailer = SmtpMailer::Create(o, clock);
  ASSERT_TRUE(mailer.ok());
  Status s = (*mailer)->Send(Message());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(s.message().find("s3cret"), std::string::npos);
  EXPECT_TRUE(server.Data().empty());
  for (const std::string& c : server.Commands()) {
    EXPECT_EQ(c.find("AUTH"), std::string::npos) << c;
  }
}

TEST(SmtpMailerTest, UnreachableServerIsUnavailable) {
  // Bind a port, then close it, so nothing listens there.
  int port;
  {
    FakeSmtpServer server;
    port = server.port();
  }
  ManualClock clock;
  auto mailer = SmtpMailer::Create(LocalOptions(port), clock);
  ASSERT_TRUE(mailer.ok());
  EXPECT_EQ((*mailer)->Send(Message()).code(), StatusCode::kUnavailable);
}

TEST(SmtpMailerTest, InvalidMessageNeverConnects) {
  FakeSmtpServer server;
  ManualClock clock;
  auto mailer = SmtpMailer::Create(LocalOptions(server.port()), clock);
  ASSERT_TRUE(mailer.ok());
  MailMessage m = Message();
  m.to = "ann@example.com>\r\nRCPT TO:<victim@example.com";
  EXPECT_EQ((*mailer)->Send(m).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(server.Commands().empty());
}

// The Mailer contract against a fake server (no TLS on loopback).
class SmtpTraits {
 public:
  std::unique_ptr<Mailer> Make() {
    auto mailer = SmtpMailer::Create(LocalOptions(server_.port()), clock_);
    EXPECT_TRUE(mailer.ok()) << mailer.status().ToString();
    return std::move(mailer).value();
  }
  std::size_t Delivered() { return server_.Data().size(); }

 private:
  FakeSmtpServer server_;
  ManualClock clock_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Smtp, MailerConformanceTest, SmtpTraits);

}  // namespace
}  // namespace weft::auth
