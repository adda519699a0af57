#include "common/build_info.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace weft {
namespace {

TEST(BuildInfoTest, VersionComesFromCMakeProject) {
  EXPECT_EQ(std::string(Version()), WEFT_EXPECTED_VERSION);
}

TEST(BuildInfoTest, CommitIsHexOrUnknown) {
  std::string commit(GitCommit());
  EXPECT_TRUE(
      std::regex_match(commit, std::regex("([0-9a-f]{7,40}(-dirty)?)|unknown")))
      << commit;
}

}  // namespace
}  // namespace weft
