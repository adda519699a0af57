#include "server/access_change_feed.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/memory_metadata.h"

namespace weft::server {
namespace {

class AccessChangeFeedTest : public ::testing::Test {
 protected:
  store::MemoryMetadata metadata_;
  std::vector<std::string> notified_;
  AccessChangeFeed feed_{metadata_, [this](const std::string& user) {
                           notified_.push_back(user);
                         }};
};

TEST_F(AccessChangeFeedTest, NotifiesEntriesRecordedAfterTheStartOnceInOrder) {
  ASSERT_TRUE(metadata_.RecordAccessChange("before-start", 1).ok());
  ASSERT_TRUE(feed_.Start().ok());
  EXPECT_EQ(*feed_.Poll(), 0u);
  ASSERT_TRUE(metadata_.RecordAccessChange("u1", 2).ok());
  ASSERT_TRUE(metadata_.RecordAccessChange("u2", 3).ok());
  EXPECT_EQ(*feed_.Poll(), 2u);
  EXPECT_EQ(notified_, (std::vector<std::string>{"u1", "u2"}));
  EXPECT_EQ(*feed_.Poll(), 0u);
  ASSERT_TRUE(metadata_.RecordAccessChange("u1", 4).ok());
  EXPECT_EQ(*feed_.Poll(), 1u);
  EXPECT_EQ(notified_, (std::vector<std::string>{"u1", "u2", "u1"}));
}

TEST_F(AccessChangeFeedTest, ReadsEveryPageOfALongBacklog) {
  ASSERT_TRUE(feed_.Start().ok());
  for (int i = 0; i < 600; ++i) {
    ASSERT_TRUE(metadata_.RecordAccessChange("u" + std::to_string(i), i).ok());
  }
  EXPECT_EQ(*feed_.Poll(), 600u);
  ASSERT_EQ(notified_.size(), 600u);
  EXPECT_EQ(notified_.front(), "u0");
  EXPECT_EQ(notified_.back(), "u599");
}

TEST_F(AccessChangeFeedTest, APollBeforeTheStartStartsAfterTheNewestEntry) {
  ASSERT_TRUE(metadata_.RecordAccessChange("old", 1).ok());
  EXPECT_EQ(*feed_.Poll(), 0u);  // starts here
  ASSERT_TRUE(metadata_.RecordAccessChange("new", 2).ok());
  EXPECT_EQ(*feed_.Poll(), 1u);
  EXPECT_EQ(notified_, (std::vector<std::string>{"new"}));
}

// The store is down while the server starts: the entries recorded before
// the first successful poll cannot be told from older ones, so that poll
// re-checks every session instead of skipping them unseen.
TEST(AccessChangeFeedStartTest, AStartThatFailedChecksEverySessionOnce) {
  struct DownMetadata : store::MemoryMetadata {
    bool down = true;
    Result<std::int64_t> LastAccessChangeId() override {
      if (down) return Status::Unavailable("the store is down");
      return MemoryMetadata::LastAccessChangeId();
    }
  } metadata;
  std::vector<std::string> notified;
  int all = 0;
  AccessChangeFeed feed(
      metadata, [&](const std::string& user) { notified.push_back(user); },
      [&] { ++all; });
  EXPECT_FALSE(feed.Start().ok());
  EXPECT_FALSE(feed.Poll().ok());
  EXPECT_EQ(all, 0);
  metadata.down = false;
  ASSERT_TRUE(metadata.RecordAccessChange("during-outage", 1).ok());
  EXPECT_EQ(*feed.Poll(), 0u);
  EXPECT_EQ(all, 1);
  ASSERT_TRUE(metadata.RecordAccessChange("later", 2).ok());
  EXPECT_EQ(*feed.Poll(), 1u);
  EXPECT_EQ(notified, (std::vector<std::string>{"later"}));
  EXPECT_EQ(all, 1);  // once
}

TEST_F(AccessChangeFeedTest, AStartThatSucceedsChecksNoSessionAtLarge) {
  int all = 0;
  AccessChangeFeed feed(
      metadata_, [](const std::string&) {}, [&] { ++all; });
  ASSERT_TRUE(feed.Start().ok());
  ASSERT_TRUE(metadata_.RecordAccessChange("u1", 1).ok());
  EXPECT_EQ(*feed.Poll(), 1u);
  EXPECT_EQ(all, 0);
}

TEST_F(AccessChangeFeedTest, PruneRemovesOldEntriesOnly) {
  ASSERT_TRUE(metadata_.RecordAccessChange("u1", 100).ok());
  ASSERT_TRUE(metadata_.RecordAccessChange("u2", 300).ok());
  EXPECT_EQ(*feed_.Prune(200), 1);
  EXPECT_EQ(metadata_.ListAccessChangesAfter(0, 10)->size(), 1u);
}

}  // namespace
}  // namespace weft::server
