#pragma once

// WebSocket framing (RFC 6455 §5) for the server side of the sync endpoint:
// the headers of the unmasked frames a server sends, and an incremental
// reader of the masked frames a client sends. Pure: bytes in, events out.
// Hostile bytes are answered with a close code, never a crash.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace weft::proto {

enum class WsOpcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// The longest frame header a server writes: 2 bytes plus a 64-bit length.
constexpr std::size_t kWsMaxServerHeader = 10;

// Writes the header of one final, unmasked frame of `payload_size` bytes
// into `out` and returns its length (2, 4 or 10).
std::size_t WriteWsFrameHeader(WsOpcode opcode, std::uint64_t payload_size,
                               std::uint8_t out[kWsMaxServerHeader]);

// The payload of a close frame: `code`, then `reason` cut to the 123 bytes
// a control frame can carry after the code (not inside a UTF-8 sequence).
std::string WsClosePayload(std::uint16_t code, std::string_view reason);

// One complete thing read from the client: a data message (text or
// binary, fragments joined) or a control frame.
struct WsEvent {
  WsOpcode opcode;           // kText, kBinary, kClose, kPing or kPong
  std::string_view payload;  // valid only during the callback
  // kClose: the peer's code (1005 when it sent none).
  std::uint16_t close_code = 0;
};

// Reads client frames incrementally. A violation ends reading: Feed returns
// the close code to answer with (1002 protocol error, 1007 a close reason
// that is not UTF-8, 1009 message too big) and every later Feed returns it
// again. Text messages are not checked for UTF-8: weft refuses them anyway.
class WsFrameReader {
 public:
  explicit WsFrameReader(std::size_t max_message_bytes)
      : max_message_(max_message_bytes) {}

  // Consumes `size` bytes at `data` (unmasked in place), calling `on_event`
  // for each complete message or control frame. Returns 0, or the close
  // code of a violation.
  std::uint16_t Feed(char* data, std::size_t size,
                     const std::function<void(const WsEvent&)>& on_event);

 private:
  enum class State : std::uint8_t { kHeader, kPayload };
  std::uint16_t CheckFirstBytes() const;
  std::uint16_t ParseHeader();
  void Unmask(char* data, std::size_t size);
  std::uint16_t FinishFrame(std::string_view direct,
                            const std::function<void(const WsEvent&)>& emit);

  std::size_t max_message_;
  State state_ = State::kHeader;
  std::uint8_t header_[14] = {};
  std::uint8_t header_len_ = 0;
  // The frame being read.
  WsOpcode opcode_ = WsOpcode::kContinuation;
  bool fin_ = false;
  std::uint8_t mask_[4] = {};
  std::uint8_t mask_pos_ = 0;
  std::uint64_t remaining_ = 0;
  // A data message is in progress (its first fragment came, not its last).
  bool in_message_ = false;
  WsOpcode message_opcode_ = WsOpcode::kBinary;
  std::string message_;  // its bytes so far, when not delivered directly
  std::string control_;  // a control frame's payload (at most 125 bytes)
  std::uint16_t failed_ = 0;
};

}  // namespace weft::proto
