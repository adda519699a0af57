#include "store/store_commands.h"

#include <gtest/gtest.h>

#include <sstream>

#include "store/store_test_backends.h"
#include "store/store_test_workload.h"

namespace weft::store::testing {
namespace {

SqliteOptions At(const std::string& path) {
  SqliteOptions o;
  o.path = path;
  return o;
}

TEST(StoreCommandsTest, ExportsAndImportsADocumentBetweenStores) {
  TempDir dir;
  StoreTarget a{dir.path() + "/a.db", ""}, b{dir.path() + "/b.db", ""};
  {
    auto s = OpenSqliteStore(At(a.sqlite_path));
    ASSERT_TRUE(s.ok());
    std::vector<NewOp> ops;
    for (std::uint64_t i = 1; i <= 10; ++i) ops.push_back(OpFor({1, i}));
    ASSERT_TRUE((*s)->Append("doc", ops).ok());
    ASSERT_TRUE((*s)->SaveSnapshot({"doc", 8, 0, "snap"}).ok());
    ASSERT_TRUE((*s)->Compact("doc", 8).ok());
  }
  std::ostringstream err;
  std::string file = dir.path() + "/doc.weftdoc";
  ASSERT_EQ(RunExportCommand(a, "doc", file, err), 0) << err.str();
  EXPECT_NE(err.str().find("10 ops"), std::string::npos) << err.str();
  ASSERT_EQ(RunImportCommand(b, file, err), 0) << err.str();
  EXPECT_EQ(RunImportCommand(b, file, err), 1);
  EXPECT_NE(err.str().find("already_exists"), std::string::npos) << err.str();

  auto sa = OpenSqliteStore(At(a.sqlite_path));
  auto sb = OpenSqliteStore(At(b.sqlite_path));
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_EQ(*(*sa)->ExportDocument("doc"), *(*sb)->ExportDocument("doc"));
  EXPECT_EQ(RunExportCommand({}, "doc", file, err), 1);
  EXPECT_EQ(RunExportCommand(a, "missing", file, err), 1);
}

TEST(StoreCommandsTest, BackupAndRestoreShowProgress) {
  TempDir dir;
  std::string db = dir.path() + "/s.db", bak = dir.path() + "/s.bak";
  {
    auto s = OpenSqliteStore(At(db));
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(AppendOp(**s, "d", {1, 1}).ok());
  }
  std::ostringstream err;
  ASSERT_EQ(RunBackupCommand(db, bak, err), 0) << err.str();
  EXPECT_NE(err.str().find("backup: 100%"), std::string::npos) << err.str();
  ASSERT_EQ(RunRestoreCommand(bak, db, err), 0) << err.str();
  EXPECT_NE(err.str().find("restore: 100%"), std::string::npos) << err.str();
  EXPECT_EQ(RunRestoreCommand(dir.path() + "/none", db, err), 1);
}

}  // namespace
}  // namespace weft::store::testing
