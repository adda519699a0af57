#include "auth/field_errors.h"

namespace weft::auth {

void FieldErrors::Add(std::string_view field, std::string_view reason) {
  errors_.try_emplace(std::string(field), reason);
}

void FieldErrors::Merge(const FieldErrors& other) {
  for (const auto& [field, reason] : other.errors_) Add(field, reason);
}

std::string_view FieldErrors::ReasonFor(std::string_view field) const {
  auto it = errors_.find(field);
  return it == errors_.end() ? std::string_view() : it->second;
}

boost::json::object FieldErrors::ToJson() const {
  boost::json::object out;
  for (const auto& [field, reason] : errors_) out[field] = reason;
  return out;
}

Status FieldErrors::ToStatus() const {
  if (errors_.empty()) return Status::Ok();
  std::string message = "invalid fields: ";
  bool first = true;
  for (const auto& [field, reason] : errors_) {
    if (!first) message += ", ";
    first = false;
    message += field;
  }
  return Status::InvalidArgument(std::move(message));
}

}  // namespace weft::auth
