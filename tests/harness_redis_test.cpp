// Proves the throwaway Redis harness: PUBLISH reaches a SUBSCRIBEr.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "redis_server.h"

namespace weft::testing {
namespace {

redisContext* Connect(const RedisServer& server) {
  timeval timeout{5, 0};
  return redisConnectWithTimeout(server.host().c_str(), server.port(), timeout);
}

TEST(RedisHarnessTest, RoundTripsPublishSubscribe) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  redisContext* sub = Connect(**server);
  redisContext* pub = Connect(**server);
  ASSERT_TRUE(sub && !sub->err);
  ASSERT_TRUE(pub && !pub->err);

  auto* reply = static_cast<redisReply*>(redisCommand(sub, "SUBSCRIBE doc:42"));
  ASSERT_NE(reply, nullptr);
  ASSERT_EQ(reply->type, REDIS_REPLY_ARRAY);
  freeReplyObject(reply);

  const std::string payload("op\0bytes\xff", 9);
  reply = static_cast<redisReply*>(
      redisCommand(pub, "PUBLISH doc:42 %b", payload.data(), payload.size()));
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->type, REDIS_REPLY_INTEGER);
  EXPECT_EQ(reply->integer, 1);  // one subscriber received it
  freeReplyObject(reply);

  void* raw = nullptr;
  ASSERT_EQ(redisGetReply(sub, &raw), REDIS_OK);
  reply = static_cast<redisReply*>(raw);
  ASSERT_EQ(reply->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(reply->elements, 3u);
  EXPECT_EQ(std::string(reply->element[0]->str), "message");
  EXPECT_EQ(std::string(reply->element[1]->str), "doc:42");
  EXPECT_EQ(std::string(reply->element[2]->str, reply->element[2]->len),
            payload);
  freeReplyObject(reply);
  redisFree(sub);
  redisFree(pub);
}

TEST(RedisHarnessTest, StopsTheServer) {
  std::uint16_t port;
  {
    auto server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    port = (*server)->port();
  }
  timeval timeout{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeout);
  EXPECT_TRUE(c == nullptr || c->err);
  if (c) redisFree(c);
}

}  // namespace
}  // namespace weft::testing
