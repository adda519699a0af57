#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "proto/message.h"

namespace weft::proto {

// Encodes one message as the bytes of one binary WebSocket message.
// Precondition: the message is valid (doc ids and strings as in
// docs/protocol.md); encoding never fails.
std::string Encode(const Message& message);

// Decodes one message from untrusted bytes. Never crashes, throws or
// allocates more than a small multiple of the input: a malformed, truncated
// or oversized message returns kCorruption whose message starts with a
// stable reason ("truncated", "unknown message type", "bad doc id",
// "invalid utf-8", "trailing bytes", "bad role", "bad span",
// "count exceeds input", ...).
Result<Message> Decode(std::string_view bytes);

// True for 1..128 bytes of [A-Za-z0-9_.-].
bool IsValidDocId(std::string_view doc);

// The type byte a message is encoded with.
MessageType TypeOf(const Message& message);

}  // namespace weft::proto
