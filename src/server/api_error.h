#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "server/http_message.h"

namespace weft::server {

// Every failure a client sees has one shape:
//   {"error":{"code":"not_found","message":"...","details":{},"request_id":"..."}}
// `code` is stable (clients switch on it); `message` is for people.
HttpResponse ErrorResponse(int status, std::string_view code,
                           std::string_view message,
                           std::string_view request_id,
                           boost::json::object details = {});

}  // namespace weft::server
