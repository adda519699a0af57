#pragma once

// The backends the conformance suite runs against: each opens a fresh,
// empty store and can reopen the same storage (for the durable ones). Test
// support only.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "pg_server.h"
#include "store/memory_store.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"

namespace weft::store::testing {

// A directory under $TMPDIR removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t != nullptr && *t ? t : "/tmp") +
                       "/weft-store-test-XXXXXX";
    char* made = ::mkdtemp(tmpl.data());
    WEFT_CHECK_MSG(made != nullptr, "mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class MemoryBackend {
 public:
  static constexpr bool kDurable = false;
  static constexpr const char* kName = "memory";
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() {}
  Result<std::unique_ptr<Store>> OpenFresh() { return NewMemoryStore(); }
  Result<std::unique_ptr<Store>> OpenAgain() {
    return Status::FailedPrecondition("memory store cannot reopen");
  }
};

class SqliteBackend {
 public:
  static constexpr bool kDurable = true;
  static constexpr const char* kName = "sqlite";
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() {}
  Result<std::unique_ptr<Store>> OpenFresh() {
    options_.path = dir_.path() + "/store-" + std::to_string(++n_) + ".db";
    return OpenSqliteStore(options_);
  }
  Result<std::unique_ptr<Store>> OpenAgain() {
    return OpenSqliteStore(options_);
  }
  SqliteOptions& options() { return options_; }

 private:
  TempDir dir_;
  SqliteOptions options_;
  int n_ = 0;
};

class PgBackend {
 public:
  static constexpr bool kDurable = true;
  static constexpr const char* kName = "postgres";
  static void SetUpTestSuite() {
    auto s = weft::testing::PgServer::Start();
    WEFT_CHECK_MSG(s.ok(), s.status().ToString().c_str());
    server_ = std::move(*s).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  Result<std::unique_ptr<Store>> OpenFresh() {
    auto db = server_->CreateDatabase();
    if (!db.ok()) return db.status();
    options_.conninfo = server_->ConnInfo(*db);
    return OpenPgStore(options_);
  }
  Result<std::unique_ptr<Store>> OpenAgain() { return OpenPgStore(options_); }
  PgOptions& options() { return options_; }
  static weft::testing::PgServer* server() { return server_; }

 private:
  static inline weft::testing::PgServer* server_ = nullptr;
  PgOptions options_;
};

}  // namespace weft::store::testing
