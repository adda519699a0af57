#include "proto/ws_frame.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

namespace weft::proto {
namespace {

// A frame as a client sends it: masked with `mask`.
std::string ClientFrame(std::uint8_t first_byte, std::string_view payload,
                        std::uint32_t mask = 0x37fa213d) {
  std::string f;
  f.push_back(static_cast<char>(first_byte));
  std::size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xFF));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>(n >> (8 * i)));
  }
  char m[4] = {static_cast<char>(mask >> 24), static_cast<char>(mask >> 16),
               static_cast<char>(mask >> 8), static_cast<char>(mask)};
  f.append(m, 4);
  for (std::size_t i = 0; i < n; ++i) f.push_back(payload[i] ^ m[i % 4]);
  return f;
}

constexpr std::uint8_t kFinBinary = 0x82;
constexpr std::uint8_t kFinText = 0x81;

struct Seen {
  WsOpcode opcode;
  std::string payload;
  std::uint16_t close_code;
  bool operator==(const Seen&) const = default;
};

// Feeds `bytes` in chunks of `chunk` bytes; returns the events and sets
// `*code` to the first non-zero Feed result.
std::vector<Seen> Read(std::string bytes, std::size_t chunk,
                       std::uint16_t* code = nullptr,
                       std::size_t max = 1 << 20) {
  WsFrameReader reader(max);
  std::vector<Seen> seen;
  std::uint16_t result = 0;
  for (std::size_t i = 0; i < bytes.size() && result == 0; i += chunk) {
    std::size_t n = std::min(chunk, bytes.size() - i);
    result = reader.Feed(bytes.data() + i, n, [&](const WsEvent& e) {
      seen.push_back({e.opcode, std::string(e.payload), e.close_code});
    });
  }
  if (code != nullptr) *code = result;
  return seen;
}

TEST(WsFrameTest, ServerHeaderLengths) {
  std::uint8_t h[kWsMaxServerHeader];
  EXPECT_EQ(WriteWsFrameHeader(WsOpcode::kBinary, 125, h), 2u);
  EXPECT_EQ(h[0], 0x82);
  EXPECT_EQ(h[1], 125);
  EXPECT_EQ(WriteWsFrameHeader(WsOpcode::kBinary, 126, h), 4u);
  EXPECT_EQ(h[1], 126);
  EXPECT_EQ(h[2], 0);
  EXPECT_EQ(h[3], 126);
  EXPECT_EQ(WriteWsFrameHeader(WsOpcode::kPing, 65535, h), 4u);
  EXPECT_EQ(h[0], 0x89);
  EXPECT_EQ(WriteWsFrameHeader(WsOpcode::kBinary, 65536, h), 10u);
  EXPECT_EQ(h[1], 127);
  EXPECT_EQ(h[7], 1);  // 65536 = 0x00..010000
  EXPECT_EQ(h[8], 0);
  EXPECT_EQ(h[9], 0);
}

TEST(WsFrameTest, ClosePayloadCarriesCodeAndCutReason) {
  std::string p = WsClosePayload(4508, std::string(300, 'r'));
  ASSERT_EQ(p.size(), 125u);  // the most a control frame carries
  EXPECT_EQ(static_cast<std::uint8_t>(p[0]), 4508 >> 8);
  EXPECT_EQ(static_cast<std::uint8_t>(p[1]), 4508 & 0xFF);
  EXPECT_EQ(p.substr(2), std::string(123, 'r'));
  // A cut never splits a UTF-8 sequence: 122 bytes, then "é" (2 bytes).
  std::string p2 = WsClosePayload(1001, std::string(122, 'r') + "\xc3\xa9");
  EXPECT_EQ(p2.substr(2), std::string(122, 'r'));
}

TEST(WsFrameTest, ReadsMessagesWhateverTheReadSizes) {
  std::string big(70000, 'b');
  std::string input = ClientFrame(kFinBinary, "hello") +
                      ClientFrame(kFinBinary, std::string(300, 'm')) +
                      ClientFrame(kFinBinary, big) + ClientFrame(kFinText, "") +
                      ClientFrame(0x89, "p1");
  std::vector<Seen> want = {{WsOpcode::kBinary, "hello", 0},
                            {WsOpcode::kBinary, std::string(300, 'm'), 0},
                            {WsOpcode::kBinary, big, 0},
                            {WsOpcode::kText, "", 0},
                            {WsOpcode::kPing, "p1", 0}};
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 100u, 4096u, 1u << 20}) {
    std::uint16_t code = 1;
    EXPECT_EQ(Read(input, chunk, &code), want) << "chunk " << chunk;
    EXPECT_EQ(code, 0);
  }
}

TEST(WsFrameTest, JoinsFragmentsWithControlFramesBetween) {
  std::string input = ClientFrame(0x02, "ab") + ClientFrame(0x8A, "pong") +
                      ClientFrame(0x00, "cd") + ClientFrame(0x80, "ef");
  std::vector<Seen> want = {{WsOpcode::kPong, "pong", 0},
                            {WsOpcode::kBinary, "abcdef", 0}};
  EXPECT_EQ(Read(input, 1), want);
  EXPECT_EQ(Read(input, 1000), want);
}

TEST(WsFrameTest, CloseFrames) {
  std::string with_code = ClientFrame(0x88, std::string("\x03\xe8", 2) + "bye");
  auto seen = Read(with_code, 1000);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].close_code, 1000);
  EXPECT_EQ(seen[0].payload, "bye");
  seen = Read(ClientFrame(0x88, ""), 1000);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].close_code, 1005);
  std::uint16_t code = 0;
  Read(ClientFrame(0x88, "x"), 1000, &code);
  EXPECT_EQ(code, 1002);  // a one-byte close payload
  Read(ClientFrame(0x88, std::string("\x03\xed", 2)), 1000, &code);
  EXPECT_EQ(code, 1002);  // 1005 may not be sent
  Read(ClientFrame(0x88, std::string("\x03\xe8\xc3", 3)), 1000, &code);
  EXPECT_EQ(code, 1007);  // a reason cut inside a UTF-8 sequence
}

TEST(WsFrameTest, ProtocolViolationsAnswer1002) {
  std::string unmasked = "\x82\x01x";  // refused before a mask could come
  std::vector<std::string> bad = {
      unmasked,
      ClientFrame(0xC2, "x"),                    // reserved bit
      ClientFrame(0x83, "x"),                    // unknown opcode
      ClientFrame(0x09, "x"),                    // fragmented ping
      ClientFrame(0x89, std::string(126, 'p')),  // control over 125 bytes
      ClientFrame(0x80, "x"),                    // continuation, no message
      ClientFrame(0x02, "a") + ClientFrame(0x82, "b"),  // new message inside
  };
  for (const auto& input : bad) {
    for (std::size_t chunk : {1u, 1000u}) {
      std::uint16_t code = 0;
      auto seen = Read(input, chunk, &code);
      EXPECT_EQ(code, 1002) << testing::PrintToString(input);
      EXPECT_TRUE(seen.empty());
    }
  }
  // A 64-bit length with its top bit set.
  std::string huge("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00mask", 14);
  std::uint16_t code = 0;
  Read(huge, 3, &code);
  EXPECT_EQ(code, 1002);
}

TEST(WsFrameTest, OversizedMessagesAnswer1009BeforeBuffering) {
  std::uint16_t code = 0;
  // The header alone is enough to refuse: the payload never has to come.
  std::string header_only = ClientFrame(kFinBinary, std::string(2000, 'x'));
  header_only.resize(8);
  Read(header_only, 1000, &code, /*max=*/1000);
  EXPECT_EQ(code, 1009);
  // Fragments that together pass the limit.
  std::string fragments = ClientFrame(0x02, std::string(600, 'a')) +
                          ClientFrame(0x80, std::string(600, 'b'));
  auto seen = Read(fragments, 100, &code, 1000);
  EXPECT_EQ(code, 1009);
  EXPECT_TRUE(seen.empty());
  // Exactly at the limit is fine.
  seen =
      Read(ClientFrame(kFinBinary, std::string(1000, 'c')), 100, &code, 1000);
  EXPECT_EQ(code, 0);
  ASSERT_EQ(seen.size(), 1u);
}

TEST(WsFrameTest, AFailedReaderStaysFailed) {
  WsFrameReader reader(100);
  std::string bad = ClientFrame(0x83, "x");
  std::string good = ClientFrame(kFinBinary, "ok");
  int events = 0;
  auto count = [&](const WsEvent&) { ++events; };
  EXPECT_EQ(reader.Feed(bad.data(), bad.size(), count), 1002);
  EXPECT_EQ(reader.Feed(good.data(), good.size(), count), 1002);
  EXPECT_EQ(events, 0);
}

// Random messages, randomly fragmented, with pings between, read in random
// chunks: exactly the messages come out, in order.
RC_GTEST_PROP(WsFrameProperty, FragmentsAndChunkingDoNotMatter, ()) {
  auto messages = *rc::gen::container<std::vector<std::string>>(
      rc::gen::container<std::string>(rc::gen::arbitrary<char>()));
  std::string input;
  std::vector<Seen> want;
  for (const auto& m : messages) {
    std::size_t parts = *rc::gen::inRange<std::size_t>(1, 4);
    std::size_t at = 0;
    for (std::size_t p = 0; p < parts; ++p) {
      std::size_t end = p + 1 == parts
                            ? m.size()
                            : *rc::gen::inRange<std::size_t>(at, m.size() + 1);
      std::uint8_t op = p == 0 ? 0x02 : 0x00;
      if (p + 1 == parts) op |= 0x80;
      input += ClientFrame(op, m.substr(at, end - at),
                           *rc::gen::arbitrary<std::uint32_t>());
      at = end;
      if (p + 1 < parts && *rc::gen::inRange(0, 4) == 0) {
        input += ClientFrame(0x89, "k");
        want.push_back({WsOpcode::kPing, "k", 0});
      }
    }
    want.push_back({WsOpcode::kBinary, m, 0});
  }
  std::size_t chunk = *rc::gen::inRange<std::size_t>(1, 64);
  std::uint16_t code = 1;
  RC_ASSERT(Read(input, chunk, &code) == want);
  RC_ASSERT(code == 0);
}

}  // namespace
}  // namespace weft::proto
