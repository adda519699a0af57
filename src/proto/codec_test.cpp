#include "proto/codec.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace weft::proto {
namespace {

// Generators producing valid messages (docs/protocol.md).
rc::Gen<std::string> GenDocId() {
  return rc::gen::container<std::string>(rc::gen::elementOf(std::string(
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")));
}

rc::Gen<std::string> GenText() {
  // UTF-8 pieces of 1 to 4 bytes.
  return rc::gen::map(
      rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(
          std::vector<std::string>{"a", "Z", " ", "\xc3\xa9", "\xe2\x82\xac",
                                   "\xf0\x9f\x98\x80", "\n"})),
      [](const std::vector<std::string>& parts) {
        std::string s;
        for (const auto& p : parts) s += p;
        return s;
      });
}

rc::Gen<std::string> GenNonEmptyDocId() {
  return rc::gen::suchThat(GenDocId(), [](const std::string& s) {
    return !s.empty() && s.size() <= 128;
  });
}

rc::Gen<Change> GenChange() {
  return rc::gen::build<Change>(
      rc::gen::set(&Change::client_id), rc::gen::set(&Change::first_seq),
      rc::gen::set(&Change::span, rc::gen::inRange<std::uint64_t>(1, 1u << 20)),
      rc::gen::set(&Change::update));
}

rc::Gen<Message> GenMessage() {
  auto doc = GenNonEmptyDocId();
  auto changes = rc::gen::container<std::vector<Change>>(GenChange());
  return rc::gen::oneOf(
      rc::gen::map(rc::gen::tuple(rc::gen::arbitrary<std::uint64_t>(),
                                  GenText(), GenText()),
                   [](auto t) {
                     return Message(
                         Hello{std::get<0>(t), std::get<1>(t), std::get<2>(t)});
                   }),
      rc::gen::map(GenText(), [](std::string s) { return Message(Auth{s}); }),
      rc::gen::map(rc::gen::tuple(doc, rc::gen::arbitrary<std::uint64_t>()),
                   [](auto t) {
                     return Message(Subscribe{std::get<0>(t), std::get<1>(t)});
                   }),
      rc::gen::map(doc, [](std::string d) { return Message(Unsubscribe{d}); }),
      rc::gen::map(rc::gen::tuple(doc, changes),
                   [](auto t) {
                     return Message(Submit{std::get<0>(t), std::get<1>(t)});
                   }),
      rc::gen::map(rc::gen::tuple(doc, rc::gen::arbitrary<std::string>()),
                   [](auto t) {
                     return Message(Presence{std::get<0>(t), std::get<1>(t)});
                   }),
      rc::gen::map(rc::gen::arbitrary<std::uint64_t>(),
                   [](std::uint64_t n) { return Message(Ping{n}); }),
      rc::gen::map(
          rc::gen::tuple(GenText(), rc::gen::arbitrary<std::uint64_t>(),
                         rc::gen::arbitrary<std::uint64_t>()),
          [](auto t) {
            return Message(
                Welcome{1, std::get<0>(t), std::get<1>(t), std::get<2>(t)});
          }),
      rc::gen::map(rc::gen::tuple(doc, rc::gen::inRange(1, 4),
                                  rc::gen::arbitrary<std::uint64_t>()),
                   [](auto t) {
                     return Message(Subscribed{
                         std::get<0>(t), static_cast<Role>(std::get<1>(t)),
                         std::get<2>(t)});
                   }),
      rc::gen::map(rc::gen::tuple(doc, rc::gen::arbitrary<std::uint64_t>(),
                                  rc::gen::arbitrary<std::string>()),
                   [](auto t) {
                     return Message(Snapshot{std::get<0>(t), std::get<1>(t),
                                             std::get<2>(t)});
                   }),
      rc::gen::map(
          rc::gen::tuple(doc, rc::gen::arbitrary<std::uint64_t>(), changes),
          [](auto t) {
            return Message(Ops{std::get<0>(t), std::get<1>(t), std::get<2>(t)});
          }),
      rc::gen::map(rc::gen::tuple(doc, rc::gen::arbitrary<std::uint64_t>()),
                   [](auto t) {
                     return Message(Synced{std::get<0>(t), std::get<1>(t)});
                   }),
      rc::gen::map(
          rc::gen::tuple(doc, rc::gen::container<std::vector<std::uint64_t>>(
                                  rc::gen::arbitrary<std::uint64_t>())),
          [](auto t) {
            Ack a{std::get<0>(t), {}};
            for (std::uint64_t v : std::get<1>(t))
              a.entries.push_back({v, v / 2, v / 3});
            return Message(a);
          }),
      rc::gen::map(rc::gen::tuple(doc, rc::gen::arbitrary<std::uint64_t>(),
                                  rc::gen::arbitrary<std::string>()),
                   [](auto t) {
                     return Message(PresenceOf{std::get<0>(t), std::get<1>(t),
                                               std::get<2>(t)});
                   }),
      rc::gen::
          map(rc::gen::tuple(doc, rc::gen::arbitrary<std::uint64_t>()),
              [](auto t) {
                return Message(PresenceGone{std::get<0>(t), std::get<1>(t)});
              }),
      rc::gen::map(
          rc::gen::tuple(doc, rc::gen::arbitrary<std::uint64_t>(), GenText()),
          [](auto t) {
            return Message(
                Unsubscribed{std::get<0>(t), std::get<1>(t), std::get<2>(t)});
          }),
      rc::gen::map(
          rc::gen::tuple(rc::gen::arbitrary<std::uint64_t>(),
                         rc::gen::oneOf(rc::gen::just(std::string()), doc),
                         GenText(), rc::gen::arbitrary<std::uint64_t>()),
          [](auto t) {
            return Message(Error{std::get<0>(t), std::get<1>(t), std::get<2>(t),
                                 std::get<3>(t)});
          }),
      rc::gen::map(rc::gen::arbitrary<std::uint64_t>(),
                   [](std::uint64_t n) { return Message(Pong{n}); }));
}

RC_GTEST_PROP(CodecProperty, DecodeInvertsEncode, ()) {
  Message m = *GenMessage();
  std::string bytes = Encode(m);
  auto decoded = Decode(bytes);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == m);
}

RC_GTEST_PROP(CodecProperty, EveryStrictPrefixIsRejected, ()) {
  std::string bytes = Encode(*GenMessage());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = Decode(std::string_view(bytes).substr(0, n));
    RC_ASSERT(!decoded.ok());
    RC_ASSERT(decoded.status().code() == StatusCode::kCorruption);
  }
}

RC_GTEST_PROP(CodecProperty, EncodingIsCanonical, ()) {
  // Flip one byte of a valid message: whatever still decodes must
  // re-encode to exactly the same bytes (one encoding per message).
  std::string bytes = Encode(*GenMessage());
  auto pos = *rc::gen::inRange<std::size_t>(0, bytes.size());
  bytes[pos] = static_cast<char>(*rc::gen::arbitrary<std::uint8_t>());
  auto decoded = Decode(bytes);
  if (decoded.ok()) RC_ASSERT(Encode(*decoded) == bytes);
}

TEST(CodecTest, GrammarExample) {
  // subscribe := u8(0x03) doc_id varuint(since_seq)
  Message m = Subscribe{"doc-1", 300};
  EXPECT_EQ(Encode(m), std::string("\x03\x05"
                                   "doc-1\xac\x02"));
}

TEST(CodecTest, RejectsUnknownTypeAndTrailingBytes) {
  EXPECT_NE(Decode(std::string("\x00", 1))
                .status()
                .message()
                .find("unknown message type"),
            std::string::npos);
  EXPECT_NE(Decode("\x7f").status().message().find("unknown message type"),
            std::string::npos);
  EXPECT_NE(Decode("").status().message().find("truncated"), std::string::npos);
  std::string ping = Encode(Ping{7});
  EXPECT_TRUE(Decode(ping).ok());
  EXPECT_NE(Decode(ping + "x").status().message().find("trailing bytes"),
            std::string::npos);
}

TEST(CodecTest, RejectsBadDocIds) {
  EXPECT_NE(
      Decode(std::string("\x04\x00", 2)).status().message().find("bad doc id"),
      std::string::npos);
  EXPECT_NE(Decode("\x04\x03"
                   "a/b")
                .status()
                .message()
                .find("bad doc id"),
            std::string::npos);
  std::string long_id(129, 'a');
  EXPECT_FALSE(Decode(Encode(Unsubscribe{long_id})).ok());
  EXPECT_TRUE(Decode(Encode(Unsubscribe{std::string(128, 'a')})).ok());
}

TEST(CodecTest, RejectsZeroSpanBadRoleAndInvalidUtf8) {
  std::string zero_span = Encode(Submit{"d", {Change{1, 1, 1, "u"}}});
  zero_span[zero_span.size() - 3] = 0;  // span byte
  EXPECT_NE(Decode(zero_span).status().message().find("bad span"),
            std::string::npos);

  std::string role = Encode(Subscribed{"d", Role::kOwner, 1});
  role[3] = 9;
  EXPECT_NE(Decode(role).status().message().find("bad role"),
            std::string::npos);

  EXPECT_NE(Decode("\x02\x02\xc3\x28").status().message().find("invalid utf-8"),
            std::string::npos);
}

TEST(CodecTest, HugeCountsDoNotAllocate) {
  // submit claiming 2^62 changes in a few bytes.
  std::string bytes =
      "\x05\x01"
      "d";
  bytes += "\x80\x80\x80\x80\x80\x80\x80\x80\x40";
  bytes += "\x01\x01\x01\x00";
  EXPECT_NE(Decode(bytes).status().message().find("count exceeds input"),
            std::string::npos);
}

}  // namespace
}  // namespace weft::proto
