#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace weft::proto {

// The messages of the sync protocol, one struct per message type. The
// grammar and meaning of each is in docs/protocol.md; field names follow it.

inline constexpr std::uint64_t kProtocolVersion = 1;

enum class Role : std::uint8_t { kViewer = 1, kEditor = 2, kOwner = 3 };

// One local transaction of the engine: the update bytes for the client's
// operation ids (client_id, first_seq) .. (client_id, first_seq + span - 1).
struct Change {
  std::uint64_t client_id = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t span = 0;
  std::string update;
  friend bool operator==(const Change&, const Change&) = default;
};

// Client to server.
struct Hello {
  std::uint64_t protocol_version = kProtocolVersion;
  std::string access_token;
  std::string client_name;
  friend bool operator==(const Hello&, const Hello&) = default;
};
struct Auth {
  std::string access_token;
  friend bool operator==(const Auth&, const Auth&) = default;
};
struct Subscribe {
  std::string doc;
  std::uint64_t since_seq = 0;
  friend bool operator==(const Subscribe&, const Subscribe&) = default;
};
struct Unsubscribe {
  std::string doc;
  friend bool operator==(const Unsubscribe&, const Unsubscribe&) = default;
};
struct Submit {
  std::string doc;
  std::vector<Change> changes;
  friend bool operator==(const Submit&, const Submit&) = default;
};
struct Presence {
  std::string doc;
  std::string state;  // UTF-8 JSON object, checked by the server
  friend bool operator==(const Presence&, const Presence&) = default;
};
struct Ping {
  std::uint64_t nonce = 0;
  friend bool operator==(const Ping&, const Ping&) = default;
};

// Server to client.
struct Welcome {
  std::uint64_t protocol_version = kProtocolVersion;
  std::string user_id;
  std::uint64_t session_id = 0;
  std::uint64_t expires_in_s = 0;
  friend bool operator==(const Welcome&, const Welcome&) = default;
};
struct Subscribed {
  std::string doc;
  Role role = Role::kViewer;
  std::uint64_t head_seq = 0;
  friend bool operator==(const Subscribed&, const Subscribed&) = default;
};
struct Snapshot {
  std::string doc;
  std::uint64_t last_included_seq = 0;
  std::string state;
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};
struct Ops {
  std::string doc;
  std::uint64_t first_seq = 0;  // the i-th change has seq first_seq + i
  std::vector<Change> changes;
  friend bool operator==(const Ops&, const Ops&) = default;
};
struct Synced {
  std::string doc;
  std::uint64_t seq = 0;
  friend bool operator==(const Synced&, const Synced&) = default;
};
struct AckEntry {
  std::uint64_t client_id = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t server_seq = 0;
  friend bool operator==(const AckEntry&, const AckEntry&) = default;
};
struct Ack {
  std::string doc;
  std::vector<AckEntry> entries;
  friend bool operator==(const Ack&, const Ack&) = default;
};
struct PresenceOf {
  std::string doc;
  std::uint64_t session_id = 0;
  std::string state;
  friend bool operator==(const PresenceOf&, const PresenceOf&) = default;
};
struct PresenceGone {
  std::string doc;
  std::uint64_t session_id = 0;
  friend bool operator==(const PresenceGone&, const PresenceGone&) = default;
};
struct Unsubscribed {
  std::string doc;
  std::uint64_t code = 0;
  std::string message;
  friend bool operator==(const Unsubscribed&, const Unsubscribed&) = default;
};
struct Error {
  std::uint64_t code = 0;  // ErrorCode
  std::string doc;         // empty when no document is concerned
  std::string message;
  std::uint64_t expected_seq = 0;  // for kOutOfOrder
  friend bool operator==(const Error&, const Error&) = default;
};
struct Pong {
  std::uint64_t nonce = 0;
  friend bool operator==(const Pong&, const Pong&) = default;
};

using Message =
    std::variant<Hello, Auth, Subscribe, Unsubscribe, Submit, Presence, Ping,
                 Welcome, Subscribed, Snapshot, Ops, Synced, Ack, PresenceOf,
                 PresenceGone, Unsubscribed, Error, Pong>;

// Wire type bytes (docs/protocol.md §3). Never renumber.
enum class MessageType : std::uint8_t {
  kHello = 0x01,
  kAuth = 0x02,
  kSubscribe = 0x03,
  kUnsubscribe = 0x04,
  kSubmit = 0x05,
  kPresence = 0x06,
  kPing = 0x07,
  kWelcome = 0x81,
  kSubscribed = 0x82,
  kSnapshot = 0x83,
  kOps = 0x84,
  kSynced = 0x85,
  kAck = 0x86,
  kPresenceOf = 0x87,
  kPresenceGone = 0x88,
  kUnsubscribed = 0x89,
  kError = 0x8a,
  kPong = 0x8b,
};

// Error codes of `error` and `unsubscribed`; close code = 4000 + code where
// docs/protocol.md §4 gives one. Never renumber.
enum class ErrorCode : std::uint16_t {
  kProtocolError = 400,
  kUnauthenticated = 401,
  kTokenExpired = 402,
  kForbidden = 403,
  kNotFound = 404,
  kOutOfOrder = 409,
  kAccessRemoved = 410,
  kTooLarge = 413,
  kInvalidUpdate = 422,
  kRateLimited = 429,
  kUnavailable = 503,
  kSlowConsumer = 508,
};

}  // namespace weft::proto
