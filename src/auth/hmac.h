#pragma once

#include <string>
#include <string_view>

namespace weft::auth {

// HMAC-SHA256 of `data` under `key` (any length): 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

}  // namespace weft::auth
