#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::auth {

// Field-level validation failures: field name -> stable reason code, e.g.
// {"email":"invalid_email","password":"too_short"}. The HTTP layer puts
// ToJson() into the error body's "details". Reason codes are part of the
// public API (docs/auth.md lists them): never rename one.
//
// The first reason recorded for a field wins, so a caller can validate in
// order of importance. Not thread-safe; a value type.
class FieldErrors {
 public:
  // Records `reason` for `field` unless the field already has one.
  void Add(std::string_view field, std::string_view reason);
  // Adds every entry of `other` (first reason per field still wins).
  void Merge(const FieldErrors& other);

  bool empty() const { return errors_.empty(); }
  std::size_t size() const { return errors_.size(); }
  // The reason recorded for `field`, or "" when it has none.
  std::string_view ReasonFor(std::string_view field) const;
  const std::map<std::string, std::string, std::less<>>& entries() const {
    return errors_;
  }

  // {"field":"reason", ...}, fields in lexicographic order.
  boost::json::object ToJson() const;
  // Ok when empty; otherwise InvalidArgument("invalid fields: a, b").
  Status ToStatus() const;

 private:
  std::map<std::string, std::string, std::less<>> errors_;
};

}  // namespace weft::auth
