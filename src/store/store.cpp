#include "store/store.h"

namespace weft::store {

Status CheckAppendArguments(std::string_view doc_id,
                            std::span<const NewOp> ops) {
  if (doc_id.empty()) return Status::InvalidArgument("empty document id");
  if (ops.empty()) return Status::InvalidArgument("empty batch of operations");
  return Status::Ok();
}

}  // namespace weft::store
