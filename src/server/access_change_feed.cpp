#include "server/access_change_feed.h"

namespace weft::server {

Status AccessChangeFeed::Start() {
  auto last = metadata_.LastAccessChangeId();
  if (!last.ok()) {
    start_failed_ = true;
    return last.status();
  }
  after_ = *last;
  started_ = true;
  if (start_failed_ && notify_all_) notify_all_();
  start_failed_ = false;
  return Status::Ok();
}

Result<std::size_t> AccessChangeFeed::Poll() {
  if (!started_) {
    WEFT_RETURN_IF_ERROR(Start());
    return std::size_t{0};
  }
  constexpr std::size_t kPage = 256;
  std::size_t total = 0;
  for (;;) {
    auto page = metadata_.ListAccessChangesAfter(after_, kPage);
    if (!page.ok()) return page.status();
    for (const auto& change : *page) {
      notify_(change.user_id);
      after_ = change.id;
    }
    total += page->size();
    if (page->size() < kPage) return total;
  }
}

}  // namespace weft::server
