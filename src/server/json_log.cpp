#include "server/json_log.h"

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

#include "core/utf.h"

namespace weft::server {
namespace {

// Longest string field a line keeps (a request path is the client's, up
// to the 16 KiB header limit).
constexpr std::size_t kMaxFieldBytes = 2048;

// A string field as a log line may hold it: valid UTF-8 (a path may carry
// any bytes, and a line that is not UTF-8 is dropped by strict log
// shippers: a way to hide a probe) and at most kMaxFieldBytes.
void Clean(boost::json::value& v, std::size_t max_bytes = kMaxFieldBytes) {
  if (!v.is_string()) return;
  std::string_view s = v.get_string();
  bool valid = core::IsValidUtf8(s);
  if (valid && s.size() <= max_bytes) return;
  std::string out = valid ? std::string(s) : core::ValidUtf8(s);
  if (out.size() > max_bytes) {
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
      --cut;  // not inside a code point
    }
    out.resize(cut);
    out += "\xE2\x80\xA6";  // U+2026
  }
  v = out;
}

std::string NowIso8601() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                now.time_since_epoch()) %
            1000;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ",
                static_cast<int>(ms.count()));
  return buf;
}

}  // namespace

void JsonLog::Write(std::string_view level, std::string_view msg,
                    boost::json::object fields) {
  boost::json::object line;
  line["ts"] = NowIso8601();
  line["level"] = level;
  line["msg"] = msg;
  Clean(line["msg"], SIZE_MAX);  // the server's own words: valid only
  for (auto& kv : fields) {
    Clean(kv.value());
    line[kv.key()] = std::move(kv.value());
  }
  std::string text = boost::json::serialize(line);
  text += '\n';
  std::lock_guard lock(mu_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace weft::server
