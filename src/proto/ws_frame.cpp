#include "proto/ws_frame.h"

#include <algorithm>
#include <cstring>

#include "common/byte_io.h"

namespace weft::proto {
namespace {

constexpr std::uint16_t kProtocolError = 1002;
constexpr std::uint16_t kInvalidUtf8 = 1007;
constexpr std::uint16_t kTooBig = 1009;
constexpr std::size_t kMaxControlPayload = 125;

bool IsControl(WsOpcode op) { return (static_cast<int>(op) & 0x8) != 0; }

bool KnownOpcode(std::uint8_t op) {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

// Close codes a peer may send (RFC 6455 §7.4: 1004-1006 and 1015 are never
// sent; 1016-2999 are reserved; 1012-1014 are registered since).
bool ValidCloseCode(std::uint16_t code) {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

}  // namespace

std::size_t WriteWsFrameHeader(WsOpcode opcode, std::uint64_t payload_size,
                               std::uint8_t out[kWsMaxServerHeader]) {
  out[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(opcode));
  if (payload_size < 126) {
    out[1] = static_cast<std::uint8_t>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<std::uint8_t>(payload_size >> 8);
    out[3] = static_cast<std::uint8_t>(payload_size);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) {
    out[2 + i] = static_cast<std::uint8_t>(payload_size >> (56 - 8 * i));
  }
  return 10;
}

std::string WsClosePayload(std::uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  std::size_t n = std::min(reason.size(), kMaxControlPayload - 2);
  // Not inside a UTF-8 sequence: a close reason must be UTF-8.
  while (n < reason.size() && n > 0 &&
         (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) {
    --n;
  }
  payload.append(reason.substr(0, n));
  return payload;
}

std::uint16_t WsFrameReader::CheckFirstBytes() const {
  // No extension is negotiated, so the reserved bits must be clear.
  if ((header_[0] & 0x70) != 0) return kProtocolError;
  if (!KnownOpcode(header_[0] & 0x0F)) return kProtocolError;
  // Every frame from a client is masked (§5.1).
  if ((header_[1] & 0x80) == 0) return kProtocolError;
  return 0;
}

std::uint16_t WsFrameReader::ParseHeader() {
  fin_ = (header_[0] & 0x80) != 0;
  opcode_ = static_cast<WsOpcode>(header_[0] & 0x0F);
  std::uint64_t len = header_[1] & 0x7F;
  std::size_t pos = 2;
  if (len == 126) {
    len = (std::uint64_t{header_[2]} << 8) | header_[3];
    pos = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | header_[2 + i];
    if ((len >> 63) != 0) return kProtocolError;
    pos = 10;
  }
  std::memcpy(mask_, header_ + pos, 4);
  mask_pos_ = 0;
  remaining_ = len;
  if (IsControl(opcode_)) {
    if (!fin_ || len > kMaxControlPayload) return kProtocolError;
    control_.clear();
    return 0;
  }
  if (opcode_ == WsOpcode::kContinuation) {
    if (!in_message_) return kProtocolError;
  } else {
    if (in_message_) return kProtocolError;
    in_message_ = true;
    message_opcode_ = opcode_;
  }
  if (len > max_message_ || message_.size() + len > max_message_) {
    return kTooBig;
  }
  return 0;
}

void WsFrameReader::Unmask(char* data, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^
                                mask_[(mask_pos_ + i) & 3]);
  }
  mask_pos_ = static_cast<std::uint8_t>((mask_pos_ + size) & 3);
}

std::uint16_t WsFrameReader::FinishFrame(
    std::string_view direct, const std::function<void(const WsEvent&)>& emit) {
  state_ = State::kHeader;
  header_len_ = 0;
  if (IsControl(opcode_)) {
    WsEvent event{opcode_, control_};
    if (opcode_ == WsOpcode::kClose) {
      if (control_.size() == 1) return kProtocolError;
      if (control_.empty()) {
        event.close_code = 1005;
      } else {
        event.close_code = static_cast<std::uint16_t>(
            (static_cast<std::uint8_t>(control_[0]) << 8) |
            static_cast<std::uint8_t>(control_[1]));
        if (!ValidCloseCode(event.close_code)) return kProtocolError;
        event.payload = std::string_view(control_).substr(2);
        // A close reason is UTF-8 (RFC 6455 §5.5.1, §8.1).
        if (!IsValidUtf8(event.payload)) return kInvalidUtf8;
      }
    }
    emit(event);
    return 0;
  }
  if (!fin_) return 0;
  in_message_ = false;
  WsEvent event{message_opcode_, message_.empty() ? direct : message_};
  emit(event);
  // An idle connection keeps no buffer from its last large message.
  if (message_.capacity() > 1024) {
    std::string().swap(message_);
  } else {
    message_.clear();
  }
  return 0;
}

std::uint16_t WsFrameReader::Feed(
    char* data, std::size_t size,
    const std::function<void(const WsEvent&)>& on_event) {
  if (failed_ != 0) return failed_;
  auto fail = [this](std::uint16_t code) {
    failed_ = code;
    std::string().swap(message_);
    return code;
  };
  while (size > 0 || (state_ == State::kPayload && remaining_ == 0)) {
    if (state_ == State::kHeader) {
      // The header's length is known from its first two bytes.
      if (header_len_ < 2) {
        std::size_t take = std::min<std::size_t>(2 - header_len_, size);
        std::memcpy(header_ + header_len_, data, take);
        header_len_ = static_cast<std::uint8_t>(header_len_ + take);
        data += take;
        size -= take;
        if (header_len_ < 2) return 0;
        // Refused at once, without waiting for a mask that may not come.
        if (std::uint16_t code = CheckFirstBytes(); code != 0) {
          return fail(code);
        }
      }
      std::uint8_t len7 = header_[1] & 0x7F;
      std::size_t need = 2 + 4 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
      std::size_t take = std::min<std::size_t>(need - header_len_, size);
      std::memcpy(header_ + header_len_, data, take);
      header_len_ = static_cast<std::uint8_t>(header_len_ + take);
      data += take;
      size -= take;
      if (header_len_ < need) return 0;
      if (std::uint16_t code = ParseHeader(); code != 0) return fail(code);
      state_ = State::kPayload;
      continue;
    }
    std::size_t take =
        static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size));
    Unmask(data, take);
    std::string_view direct;
    if (IsControl(opcode_)) {
      control_.append(data, take);
    } else if (fin_ && message_.empty() && opcode_ != WsOpcode::kContinuation &&
               take == remaining_) {
      // A whole single-frame message in this read: delivered from the
      // read buffer itself, without a copy.
      direct = std::string_view(data, take);
    } else {
      message_.append(data, take);
    }
    data += take;
    size -= take;
    remaining_ -= take;
    if (remaining_ == 0) {
      if (std::uint16_t code = FinishFrame(direct, on_event); code != 0) {
        return fail(code);
      }
    }
  }
  return 0;
}

}  // namespace weft::proto
