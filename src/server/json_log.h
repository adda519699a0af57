#pragma once

#include <boost/json/object.hpp>
#include <cstdio>
#include <mutex>
#include <string_view>

namespace weft::server {

// Writes one JSON object per line: {"ts":"2026-01-01T00:00:00.000Z",
// "level":"info","msg":"...", ...fields}. Thread-safe; each line is written
// and flushed whole, so lines from many threads never interleave.
class JsonLog {
 public:
  explicit JsonLog(std::FILE* out = stdout) : out_(out) {}

  void Write(std::string_view level, std::string_view msg,
             boost::json::object fields = {});
  void Info(std::string_view msg, boost::json::object fields = {}) {
    Write("info", msg, std::move(fields));
  }
  void Error(std::string_view msg, boost::json::object fields = {}) {
    Write("error", msg, std::move(fields));
  }

 private:
  std::mutex mu_;
  std::FILE* out_;
};

}  // namespace weft::server
