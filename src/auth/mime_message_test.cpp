#include "auth/mime_message.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <sstream>
#include <string>
#include <vector>

namespace weft::auth {
namespace {

std::string DecodeBase64(std::string_view text) {
  std::string out(text.size(), '\0');
  std::size_t len = 0;
  EXPECT_EQ(sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()),
                              out.size(), text.data(), text.size(), "\r\n",
                              &len, nullptr, sodium_base64_VARIANT_ORIGINAL),
            0);
  out.resize(len);
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find("\r\n", start);
    EXPECT_NE(end, std::string::npos) << "line without CRLF";
    if (end == std::string::npos) break;
    lines.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

MimeEnvelope Envelope(std::string from_name = "weft") {
  return {"noreply@weft.example", std::move(from_name),
          FromUnixSeconds(1'700'000'000), "id123@weft.example"};
}

TEST(MimeMessageTest, Rfc5322Dates) {
  EXPECT_EQ(FormatRfc5322Date(FromUnixSeconds(1'700'000'000)),
            "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(FormatRfc5322Date(FromUnixSeconds(951'782'400)),
            "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST(MimeMessageTest, HeadersAndBase64Body) {
  MailMessage m{"ann@example.com", "Reset your password",
                "Hello\n.hidden dot line\nbye\r\n"};
  std::string text = FormatMimeMessage(Envelope(), m);
  std::vector<std::string> lines = Lines(text);
  ASSERT_GE(lines.size(), 11u);
  EXPECT_EQ(lines[0], "Date: Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(lines[1], "From: \"weft\" <noreply@weft.example>");
  EXPECT_EQ(lines[2], "To: <ann@example.com>");
  EXPECT_EQ(lines[3], "Subject: Reset your password");
  EXPECT_EQ(lines[4], "Message-ID: <id123@weft.example>");
  EXPECT_EQ(lines[5], "MIME-Version: 1.0");
  EXPECT_EQ(lines[6], "Content-Type: text/plain; charset=utf-8");
  EXPECT_EQ(lines[7], "Content-Transfer-Encoding: base64");
  EXPECT_EQ(lines[8], "Auto-Submitted: auto-generated");
  EXPECT_EQ(lines[9], "");
  std::string body;
  for (std::size_t i = 10; i < lines.size(); ++i) {
    EXPECT_LE(lines[i].size(), 76u);
    EXPECT_NE(lines[i].rfind('.', 0), 0u);
    body += lines[i];
  }
  EXPECT_EQ(DecodeBase64(body), "Hello\r\n.hidden dot line\r\nbye\r\n");
}

TEST(MimeMessageTest, LongBodyIsWrapped) {
  MailMessage m{"ann@example.com", "s", std::string(1000, 'x')};
  std::vector<std::string> lines = Lines(FormatMimeMessage(Envelope(), m));
  std::string body;
  for (std::size_t i = 10; i < lines.size(); ++i) {
    EXPECT_LE(lines[i].size(), 76u);
    body += lines[i];
  }
  EXPECT_EQ(DecodeBase64(body), std::string(1000, 'x'));
}

TEST(MimeMessageTest, NonAsciiSubjectAndNameAreEncodedWords) {
  std::string subject;
  for (int i = 0; i < 40; ++i) subject += "\xC3\xA9";  // 40 × é
  MailMessage m{"ann@example.com", subject, "body"};
  std::string text = FormatMimeMessage(Envelope("J\xC3\xB6rg"), m);
  for (const std::string& line : Lines(text)) {
    EXPECT_LE(line.size(), 78u) << line;
    for (char c : line) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
  }
  EXPECT_NE(text.find("From: =?UTF-8?B?" + std::string("SsO2cmc") + "=?= "),
            std::string::npos)
      << text;
  // Decode the folded subject back.
  std::size_t start = text.find("Subject: ") + 9;
  std::size_t end = text.find("\r\nMessage-ID");
  std::string folded = text.substr(start, end - start);
  std::string decoded;
  std::size_t pos = 0;
  while ((pos = folded.find("=?UTF-8?B?", pos)) != std::string::npos) {
    std::size_t close = folded.find("?=", pos + 10);
    decoded += DecodeBase64(folded.substr(pos + 10, close - pos - 10));
    pos = close + 2;
  }
  EXPECT_EQ(decoded, subject);
}

TEST(MimeMessageTest, LongDisplayNameFoldsBeforeTheAddress) {
  std::string name;
  for (int i = 0; i < 41; ++i) name += "\xC3\xB6";  // 41 × ö
  MailMessage m{"ann@example.com", "s", "b"};
  std::string text = FormatMimeMessage(Envelope(name), m);
  for (const std::string& line : Lines(text)) {
    EXPECT_LE(line.size(), 78u) << line;
  }
  EXPECT_NE(text.find("?=\r\n <noreply@weft.example>\r\n"), std::string::npos)
      << text;
}

TEST(MimeMessageTest, QuotesDisplayNameSpecials) {
  MailMessage m{"ann@example.com", "s", "b"};
  std::string text = FormatMimeMessage(Envelope("We \"ft\\"), m);
  EXPECT_NE(text.find("From: \"We \\\"ft\\\\\" <noreply@weft.example>"),
            std::string::npos)
      << text;
  text = FormatMimeMessage(Envelope(""), m);
  EXPECT_NE(text.find("From: <noreply@weft.example>\r\n"), std::string::npos);
}

}  // namespace
}  // namespace weft::auth
