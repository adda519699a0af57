#include "server/api_error.h"

#include <boost/json/serialize.hpp>

namespace weft::server {

HttpResponse ErrorResponse(int status, std::string_view code,
                           std::string_view message,
                           std::string_view request_id,
                           boost::json::object details) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = message;
  error["details"] = std::move(details);
  error["request_id"] = request_id;
  boost::json::object root;
  root["error"] = std::move(error);
  HttpResponse response;
  response.status = status;
  response.body = boost::json::serialize(root);
  return response;
}

}  // namespace weft::server
