#include "auth/log_mailer.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/check.h"

namespace weft::auth {

LogMailer::LogMailer(Sink sink) : sink_(std::move(sink)) {
  WEFT_CHECK_MSG(static_cast<bool>(sink_), "LogMailer needs a sink");
}

Status LogMailer::Send(const MailMessage& message) {
  WEFT_RETURN_IF_ERROR(ValidateMailMessage(message));
  boost::json::object line;
  line["event"] = "mail";
  line["to"] = message.to;
  line["subject"] = message.subject;
  line["body"] = message.text_body;
  sink_(boost::json::serialize(line));
  return Status::Ok();
}

}  // namespace weft::auth
