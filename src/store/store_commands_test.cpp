#include "store/store_commands.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "store/sqlite_lock.h"
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
  // A mistyped store path is an error, and no store is made there.
  StoreTarget typo{dir.path() + "/typo.db", ""};
  EXPECT_EQ(RunExportCommand(typo, "doc", file, err), 1);
  EXPECT_FALSE(std::filesystem::exists(typo.sqlite_path));
  // A file that cannot be written: the reason is said, nothing is left.
  std::ostringstream why;
  EXPECT_EQ(
      RunExportCommand(a, "doc", dir.path() + "/no/such/dir/d.weftdoc", why),
      1);
  EXPECT_NE(why.str().find("No such file or directory"), std::string::npos)
      << why.str();
}

// `--file` never replaces what exists: a mistyped target replaced the
// store itself (or a backup) with the document file.
TEST(StoreCommandsTest, ExportNeverReplacesAFile) {
  TempDir dir;
  StoreTarget a{dir.path() + "/a.db", ""};
  {
    auto s = OpenSqliteStore(At(a.sqlite_path));
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(AppendOp(**s, "doc", {1, 1}).ok());
  }
  const auto store_size = std::filesystem::file_size(a.sqlite_path);
  std::ostringstream err;
  EXPECT_EQ(RunExportCommand(a, "doc", a.sqlite_path, err), 1);
  EXPECT_NE(err.str().find("exists"), std::string::npos) << err.str();
  EXPECT_EQ(std::filesystem::file_size(a.sqlite_path), store_size);
  auto s = OpenSqliteStore(At(a.sqlite_path));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE((*s)->ExportDocument("doc").ok());
  std::string other = dir.path() + "/other";
  std::ofstream(other) << "keep me";
  EXPECT_EQ(RunExportCommand(a, "doc", other, err), 1);
  std::ifstream in(other);
  std::string kept((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(kept, "keep me");
  // Nothing of the runs is left beside them.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().find("partial"), std::string::npos)
        << e.path();
  }
}

// A snapshot weftd cannot load (garbage under a good checksum, or another
// weft's format) stopped weftd at its next start: import, backup and
// restore check it with the caller's validator and refuse.
TEST(StoreCommandsTest, SnapshotsThatDoNotLoadAreRefused) {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  {
    auto s = OpenSqliteStore(At(db));
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(AppendOp(**s, "d", {1, 1}).ok());
    ASSERT_TRUE((*s)->SaveSnapshot({"d", 1, 0, "garbage"}).ok());
  }
  SnapshotValidator refuse_garbage = [](std::string_view,
                                        std::string_view state) {
    return state == "garbage" ? Status::Corruption("does not load")
                              : Status::Ok();
  };
  std::ostringstream err;
  std::string file = dir.path() + "/d.weftdoc";
  ASSERT_EQ(RunExportCommand({db, ""}, "d", file, err), 0) << err.str();
  StoreTarget b{dir.path() + "/b.db", ""};
  EXPECT_EQ(RunImportCommand(b, file, err, refuse_garbage), 1);
  EXPECT_NE(err.str().find("does not load"), std::string::npos) << err.str();
  {
    auto sb = OpenSqliteStore(At(b.sqlite_path));
    ASSERT_TRUE(sb.ok());
    EXPECT_FALSE((*sb)->ExportDocument("d").ok()) << "nothing imported";
  }
  std::string bak = dir.path() + "/s.bak";
  EXPECT_EQ(RunBackupCommand(db, bak, err, refuse_garbage), 1);
  EXPECT_FALSE(std::filesystem::exists(bak));
  ASSERT_EQ(RunBackupCommand(db, bak, err), 0) << err.str();
  // The target store is left as it was.
  std::string target = dir.path() + "/t.db";
  {
    auto t = OpenSqliteStore(At(target));
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(AppendOp(**t, "kept", {2, 1}).ok());
  }
  EXPECT_EQ(RunRestoreCommand(bak, target, err, refuse_garbage), 1);
  auto t = OpenSqliteStore(At(target));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE((*t)->ExportDocument("kept").ok());
}

// A source that is no weft store (empty, or another program's file) was
// migrated into an empty store by the backup's own check and reported
// "verified".
TEST(StoreCommandsTest, ABackupOfSomethingThatIsNoStoreIsRefused) {
  TempDir dir;
  std::string empty = dir.path() + "/empty.db";
  std::ofstream(empty).close();
  std::ostringstream err;
  EXPECT_EQ(RunBackupCommand(empty, dir.path() + "/e.bak", err), 1);
  EXPECT_NE(err.str().find("not a weft backup"), std::string::npos)
      << err.str();
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/e.bak"));
}

// A store at `db` holding one op, and its backup at `bak` (the command's
// output appended to `err`).
void StoreAndBackup(const std::string& db, const std::string& bak,
                    std::ostringstream& err) {
  {
    auto s = OpenSqliteStore(At(db));
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(AppendOp(**s, "d", {1, 1}).ok());
  }
  ASSERT_EQ(RunBackupCommand(db, bak, err), 0) << err.str();
}

TEST(StoreCommandsTest, BackupAndRestoreShowProgress) {
  TempDir dir;
  std::string db = dir.path() + "/s.db", bak = dir.path() + "/s.bak";
  std::ostringstream err;
  ASSERT_NO_FATAL_FAILURE(StoreAndBackup(db, bak, err));
  EXPECT_NE(err.str().find("backup: 100%"), std::string::npos) << err.str();
  ASSERT_EQ(RunRestoreCommand(bak, db, err), 0) << err.str();
  EXPECT_NE(err.str().find("restore: 100%"), std::string::npos) << err.str();
  EXPECT_EQ(RunRestoreCommand(dir.path() + "/none", db, err), 1);
}

// One weftd per store: the lock is exclusive (also between two opens in
// one process, as flock locks an open file), names its holder, and is free
// again once released; `weft restore` will not run under a holder.
TEST(StoreCommandsTest, TheStoreLockAdmitsOneHolderAndRestoreRespectsIt) {
  TempDir dir;
  std::string db = dir.path() + "/s.db", bak = dir.path() + "/s.bak";
  std::ostringstream err;
  ASSERT_NO_FATAL_FAILURE(StoreAndBackup(db, bak, err));
  {
    auto first = SqliteStoreLock::Acquire(db);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    auto second = SqliteStoreLock::Acquire(db);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(second.status().message().find("pid " + std::to_string(getpid())),
              std::string::npos)
        << second.status().message();
    std::ostringstream restore_err;
    EXPECT_EQ(RunRestoreCommand(bak, db, restore_err), 1);
    EXPECT_NE(restore_err.str().find("is using the store"), std::string::npos)
        << restore_err.str();
    // Nor an import (of a real document file: it is read before the lock).
    std::string file = dir.path() + "/d.weftdoc";
    ASSERT_EQ(RunExportCommand({db, ""}, "d", file, err), 0) << err.str();
    std::ostringstream import_err;
    EXPECT_EQ(RunImportCommand({db, ""}, file, import_err), 1);
    EXPECT_NE(import_err.str().find("is using the store"), std::string::npos)
        << import_err.str();
    // Moved, it is still held.
    SqliteStoreLock moved = std::move(*first);
    EXPECT_FALSE(SqliteStoreLock::Acquire(db).ok());
  }
  EXPECT_TRUE(SqliteStoreLock::Acquire(db).ok());
  EXPECT_EQ(RunRestoreCommand(bak, db, err), 0) << err.str();
}

}  // namespace
}  // namespace weft::store::testing
