#include "server/json_log.h"

#include <boost/json/serialize.hpp>
#include <chrono>
#include <ctime>
#include <string>

namespace weft::server {
namespace {

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
  for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
  std::string text = boost::json::serialize(line);
  text += '\n';
  std::lock_guard lock(mu_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace weft::server
