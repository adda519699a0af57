#include "server/json_log.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace weft::server {
namespace {

std::vector<std::string> ReadLines(std::FILE* f) {
  std::rewind(f);
  std::vector<std::string> lines;
  std::string line;
  int c;
  while ((c = std::fgetc(f)) != EOF) {
    if (c == '\n') {
      lines.push_back(line);
      line.clear();
    } else {
      line.push_back(static_cast<char>(c));
    }
  }
  EXPECT_TRUE(line.empty()) << "last line not terminated";
  return lines;
}

TEST(JsonLogTest, WritesOneParsableObjectPerLine) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  JsonLog log(f);
  log.Info("request", {{"status", 404}, {"path", "/a\"b\n"}});
  auto lines = ReadLines(f);
  ASSERT_EQ(lines.size(), 1u);
  auto obj = boost::json::parse(lines[0]).as_object();
  EXPECT_EQ(obj.at("msg").as_string(), "request");
  EXPECT_EQ(obj.at("level").as_string(), "info");
  EXPECT_EQ(obj.at("status").as_int64(), 404);
  EXPECT_EQ(obj.at("path").as_string(), "/a\"b\n");
  EXPECT_EQ(obj.at("ts").as_string().size(), 24u);  // 2026-01-01T00:00:00.000Z
  std::fclose(f);
}

// A request path is the client's bytes: the line stays valid UTF-8 (each
// invalid byte becomes U+FFFD) and a long field is cut.
TEST(JsonLogTest, FieldsAreValidUtf8AndBounded) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  JsonLog log(f);
  log.Info("request", {{"path", "/\xff\xfe/ok"},
                       {"long", std::string(5000, 'a')},
                       {"cut", std::string(2047, 'a') + "\xC3\xA9"}});
  auto lines = ReadLines(f);
  ASSERT_EQ(lines.size(), 1u);
  boost::system::error_code ec;
  auto v = boost::json::parse(lines[0], ec);  // refuses invalid UTF-8
  ASSERT_FALSE(ec) << lines[0].substr(0, 80);
  const auto& obj = v.as_object();
  EXPECT_EQ(obj.at("path").as_string(), "/\xEF\xBF\xBD\xEF\xBF\xBD/ok");
  EXPECT_EQ(obj.at("long").as_string(),
            std::string(2048, 'a') + "\xE2\x80\xA6");
  // Not inside the two-byte character that would straddle the limit.
  EXPECT_EQ(obj.at("cut").as_string(), std::string(2047, 'a') + "\xE2\x80\xA6");
  std::fclose(f);
}

TEST(JsonLogTest, LinesFromManyThreadsDoNotInterleave) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  JsonLog log(f);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 200; ++i)
        log.Info("x", {{"t", t}, {"i", i}, {"pad", std::string(300, 'p')}});
    });
  }
  for (auto& th : threads) th.join();
  auto lines = ReadLines(f);
  ASSERT_EQ(lines.size(), 800u);
  for (const auto& l : lines) EXPECT_NO_THROW(boost::json::parse(l)) << l;
  std::fclose(f);
}

}  // namespace
}  // namespace weft::server
