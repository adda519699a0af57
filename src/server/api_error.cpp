#include "server/api_error.h"

#include <boost/json/serialize.hpp>

#include "common/byte_io.h"

namespace weft::server {
namespace {

// `s` with every byte that is not part of well-formed UTF-8 replaced by
// U+FFFD: a message may quote the request (its path), whose bytes are the
// client's, and the answer must stay valid JSON.
std::string ValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t start = i;
    if (DecodeUtf8(s, &i)) {
      out.append(s.substr(start, i - start));
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

}  // namespace

HttpResponse ErrorResponse(int status, std::string_view code,
                           std::string_view message,
                           std::string_view request_id,
                           boost::json::object details) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = ValidUtf8(message);
  error["details"] = std::move(details);
  error["request_id"] = ValidUtf8(request_id);
  boost::json::object root;
  root["error"] = std::move(error);
  HttpResponse response;
  response.status = status;
  response.body = boost::json::serialize(root);
  return response;
}

}  // namespace weft::server
