#include "proto/codec.h"

#include "common/byte_io.h"

namespace weft::proto {
namespace {

// The smallest encoding of a change (four one-byte fields) and of an ack
// entry; a count larger than the remaining input divided by it is a lie.
constexpr std::size_t kMinChangeBytes = 4;
constexpr std::size_t kMinAckEntryBytes = 3;

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

void PutChanges(ByteWriter& w, const std::vector<Change>& changes) {
  w.VarUint(changes.size());
  for (const Change& c : changes) {
    w.VarUint(c.client_id);
    w.VarUint(c.first_seq);
    w.VarUint(c.span);
    w.Bytes(c.update);
  }
}

std::string DocId(ByteReader& r) {
  std::string_view doc = r.Bytes();
  if (r.ok() && !IsValidDocId(doc)) r.Fail("bad doc id");
  return std::string(doc);
}

std::string Str(ByteReader& r) { return std::string(r.Utf8()); }

std::vector<Change> Changes(ByteReader& r) {
  std::uint64_t n = r.VarUint();
  std::vector<Change> out;
  if (!r.ok()) return out;
  if (n > r.remaining() / kMinChangeBytes) {
    r.Fail("count exceeds input");
    return out;
  }
  out.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    Change c;
    c.client_id = r.VarUint();
    c.first_seq = r.VarUint();
    c.span = r.VarUint();
    if (r.ok() && c.span == 0) r.Fail("bad span");
    c.update = std::string(r.Bytes());
    out.push_back(std::move(c));
  }
  return out;
}

Result<Message> DecodeBody(MessageType type, ByteReader& r) {
  switch (type) {
    case MessageType::kHello: {
      Hello m;
      m.protocol_version = r.VarUint();
      m.access_token = Str(r);
      m.client_name = Str(r);
      return Message(std::move(m));
    }
    case MessageType::kAuth:
      return Message(Auth{Str(r)});
    case MessageType::kSubscribe: {
      Subscribe m;
      m.doc = DocId(r);
      m.since_seq = r.VarUint();
      return Message(std::move(m));
    }
    case MessageType::kUnsubscribe:
      return Message(Unsubscribe{DocId(r)});
    case MessageType::kSubmit: {
      Submit m;
      m.doc = DocId(r);
      m.changes = Changes(r);
      return Message(std::move(m));
    }
    case MessageType::kPresence: {
      Presence m;
      m.doc = DocId(r);
      m.state = std::string(r.Bytes());
      return Message(std::move(m));
    }
    case MessageType::kPing:
      return Message(Ping{r.VarUint()});
    case MessageType::kWelcome: {
      Welcome m;
      m.protocol_version = r.VarUint();
      m.user_id = Str(r);
      m.session_id = r.VarUint();
      m.expires_in_s = r.VarUint();
      return Message(std::move(m));
    }
    case MessageType::kSubscribed: {
      Subscribed m;
      m.doc = DocId(r);
      std::uint8_t role = r.U8();
      if (r.ok() && (role < 1 || role > 3)) r.Fail("bad role");
      m.role = static_cast<Role>(role);
      m.head_seq = r.VarUint();
      return Message(std::move(m));
    }
    case MessageType::kSnapshot: {
      Snapshot m;
      m.doc = DocId(r);
      m.last_included_seq = r.VarUint();
      m.state = std::string(r.Bytes());
      return Message(std::move(m));
    }
    case MessageType::kOps: {
      Ops m;
      m.doc = DocId(r);
      m.first_seq = r.VarUint();
      m.changes = Changes(r);
      return Message(std::move(m));
    }
    case MessageType::kSynced: {
      Synced m;
      m.doc = DocId(r);
      m.seq = r.VarUint();
      return Message(std::move(m));
    }
    case MessageType::kAck: {
      Ack m;
      m.doc = DocId(r);
      std::uint64_t n = r.VarUint();
      if (r.ok() && n > r.remaining() / kMinAckEntryBytes) {
        r.Fail("count exceeds input");
      }
      if (r.ok()) m.entries.reserve(static_cast<std::size_t>(n));
      for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
        AckEntry e;
        e.client_id = r.VarUint();
        e.first_seq = r.VarUint();
        e.server_seq = r.VarUint();
        m.entries.push_back(e);
      }
      return Message(std::move(m));
    }
    case MessageType::kPresenceOf: {
      PresenceOf m;
      m.doc = DocId(r);
      m.session_id = r.VarUint();
      m.state = std::string(r.Bytes());
      return Message(std::move(m));
    }
    case MessageType::kPresenceGone: {
      PresenceGone m;
      m.doc = DocId(r);
      m.session_id = r.VarUint();
      return Message(std::move(m));
    }
    case MessageType::kUnsubscribed: {
      Unsubscribed m;
      m.doc = DocId(r);
      m.code = r.VarUint();
      m.message = Str(r);
      return Message(std::move(m));
    }
    case MessageType::kError: {
      Error m;
      m.code = r.VarUint();
      std::string_view doc = r.Bytes();
      if (r.ok() && !doc.empty() && !IsValidDocId(doc)) r.Fail("bad doc id");
      m.doc = std::string(doc);
      m.message = Str(r);
      m.expected_seq = r.VarUint();
      return Message(std::move(m));
    }
    case MessageType::kPong:
      return Message(Pong{r.VarUint()});
  }
  return Status::Corruption("unknown message type " +
                            std::to_string(static_cast<int>(type)));
}

bool IsKnownType(std::uint8_t t) {
  return (t >= 0x01 && t <= 0x07) || (t >= 0x81 && t <= 0x8b);
}

}  // namespace

bool IsValidDocId(std::string_view doc) {
  if (doc.empty() || doc.size() > 128) return false;
  for (char c : doc) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

MessageType TypeOf(const Message& message) {
  return std::visit(
      Overloaded{
          [](const Hello&) { return MessageType::kHello; },
          [](const Auth&) { return MessageType::kAuth; },
          [](const Subscribe&) { return MessageType::kSubscribe; },
          [](const Unsubscribe&) { return MessageType::kUnsubscribe; },
          [](const Submit&) { return MessageType::kSubmit; },
          [](const Presence&) { return MessageType::kPresence; },
          [](const Ping&) { return MessageType::kPing; },
          [](const Welcome&) { return MessageType::kWelcome; },
          [](const Subscribed&) { return MessageType::kSubscribed; },
          [](const Snapshot&) { return MessageType::kSnapshot; },
          [](const Ops&) { return MessageType::kOps; },
          [](const Synced&) { return MessageType::kSynced; },
          [](const Ack&) { return MessageType::kAck; },
          [](const PresenceOf&) { return MessageType::kPresenceOf; },
          [](const PresenceGone&) { return MessageType::kPresenceGone; },
          [](const Unsubscribed&) { return MessageType::kUnsubscribed; },
          [](const Error&) { return MessageType::kError; },
          [](const Pong&) { return MessageType::kPong; },
      },
      message);
}

std::string Encode(const Message& message) {
  ByteWriter w;
  w.U8(static_cast<std::uint8_t>(TypeOf(message)));
  std::visit(Overloaded{
                 [&](const Hello& m) {
                   w.VarUint(m.protocol_version);
                   w.Bytes(m.access_token);
                   w.Bytes(m.client_name);
                 },
                 [&](const Auth& m) { w.Bytes(m.access_token); },
                 [&](const Subscribe& m) {
                   w.Bytes(m.doc);
                   w.VarUint(m.since_seq);
                 },
                 [&](const Unsubscribe& m) { w.Bytes(m.doc); },
                 [&](const Submit& m) {
                   w.Bytes(m.doc);
                   PutChanges(w, m.changes);
                 },
                 [&](const Presence& m) {
                   w.Bytes(m.doc);
                   w.Bytes(m.state);
                 },
                 [&](const Ping& m) { w.VarUint(m.nonce); },
                 [&](const Welcome& m) {
                   w.VarUint(m.protocol_version);
                   w.Bytes(m.user_id);
                   w.VarUint(m.session_id);
                   w.VarUint(m.expires_in_s);
                 },
                 [&](const Subscribed& m) {
                   w.Bytes(m.doc);
                   w.U8(static_cast<std::uint8_t>(m.role));
                   w.VarUint(m.head_seq);
                 },
                 [&](const Snapshot& m) {
                   w.Bytes(m.doc);
                   w.VarUint(m.last_included_seq);
                   w.Bytes(m.state);
                 },
                 [&](const Ops& m) {
                   w.Bytes(m.doc);
                   w.VarUint(m.first_seq);
                   PutChanges(w, m.changes);
                 },
                 [&](const Synced& m) {
                   w.Bytes(m.doc);
                   w.VarUint(m.seq);
                 },
                 [&](const Ack& m) {
                   w.Bytes(m.doc);
                   w.VarUint(m.entries.size());
                   for (const AckEntry& e : m.entries) {
                     w.VarUint(e.client_id);
                     w.VarUint(e.first_seq);
                     w.VarUint(e.server_seq);
                   }
                 },
                 [&](const PresenceOf& m) {
                   w.Bytes(m.doc);
                   w.VarUint(m.session_id);
                   w.Bytes(m.state);
                 },
                 [&](const PresenceGone& m) {
                   w.Bytes(m.doc);
                   w.VarUint(m.session_id);
                 },
                 [&](const Unsubscribed& m) {
                   w.Bytes(m.doc);
                   w.VarUint(m.code);
                   w.Bytes(m.message);
                 },
                 [&](const Error& m) {
                   w.VarUint(m.code);
                   w.Bytes(m.doc);
                   w.Bytes(m.message);
                   w.VarUint(m.expected_seq);
                 },
                 [&](const Pong& m) { w.VarUint(m.nonce); },
             },
             message);
  return w.Take();
}

Result<Message> Decode(std::string_view bytes) {
  ByteReader r(bytes);
  std::uint8_t type = r.U8();
  if (!r.ok()) return Status::Corruption("truncated: empty message");
  if (!IsKnownType(type)) {
    return Status::Corruption("unknown message type " + std::to_string(type));
  }
  Result<Message> message = DecodeBody(static_cast<MessageType>(type), r);
  if (Status s = r.Finish(); !s.ok()) return s;
  return message;
}

}  // namespace weft::proto
