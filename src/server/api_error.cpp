#include "server/api_error.h"

#include <boost/json/serialize.hpp>

#include "core/utf.h"

namespace weft::server {

HttpResponse ErrorResponse(int status, std::string_view code,
                           std::string_view message,
                           std::string_view request_id,
                           boost::json::object details) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = core::ValidUtf8(message);
  error["details"] = std::move(details);
  error["request_id"] = core::ValidUtf8(request_id);
  boost::json::object root;
  root["error"] = std::move(error);
  HttpResponse response;
  response.status = status;
  response.body = boost::json::serialize(root);
  return response;
}

}  // namespace weft::server
