#include "user_commands.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "auth/email_address.h"
#include "auth/opaque_token.h"
#include "auth/password_hasher.h"
#include "auth/password_policy.h"
#include "auth/utf8.h"
#include "store_open.h"

namespace weft::app {
namespace {

struct StoreFlags {
  std::string store = "sqlite";
  std::string data_dir = "weft-data";
  std::string database_url;
};

struct UserFlags {
  StoreFlags where;
  std::string email;
  std::string display_name;
};

void AddStoreFlags(CLI::App* cmd, StoreFlags& f) {
  cmd->add_option("--store", f.store, "sqlite, postgres or memory")
      ->envname("WEFT_STORE")
      ->check(CLI::IsMember({"sqlite", "postgres"}))
      ->capture_default_str();
  cmd->add_option("--data-dir", f.data_dir, "weftd's data directory")
      ->envname("WEFT_DATA_DIR")
      ->capture_default_str();
  cmd->add_option("--database-url", f.database_url,
                  "PostgreSQL connection string (with --store postgres)")
      ->envname("WEFT_DATABASE_URL");
}

[[noreturn]] void Fail(const std::string& why) {
  std::cerr << "weft user: " << why << "\n";
  throw CLI::RuntimeError(1);
}

std::string ReadPassword() {
  std::string line;
  if (!std::getline(std::cin, line)) Fail("no password on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

void CheckPolicy(const std::string& password, const std::string& email,
                 const std::string& name) {
  auto errors = auth::CheckPasswordPolicy(password, {email, name});
  if (!errors.empty()) {
    Fail("password refused: " + std::string(errors.ReasonFor("password")));
  }
}

std::string Hash(const std::string& password) {
  // Test-only, as for weftd: the cheapest parameters.
  const char* cost = std::getenv("WEFT_PASSWORD_HASH_COST");
  auto options = cost != nullptr && std::string(cost) == "test"
                     ? auth::PasswordHashOptions::MinimumForTests()
                     : auth::PasswordHashOptions{};
  auto hasher = auth::PasswordHasher::Create(options);
  if (!hasher.ok()) Fail(hasher.status().ToString());
  auto hash = hasher->Hash(password);
  if (!hash.ok()) Fail(hash.status().ToString());
  return *hash;
}

// `may_create`: a SQLite store that is not there is made (the first
// account, created before weftd ever ran). Otherwise opening one would
// make an empty store where none was meant: a password reset there would
// reach no server, and say it had ended every session.
std::unique_ptr<store::Store> Open(const StoreFlags& f, bool may_create) {
  const bool sqlite = f.store == "sqlite";
  const std::string path = SqliteStorePath(f.data_dir);
  std::error_code ec;
  const bool there = sqlite && std::filesystem::exists(path, ec);
  if (sqlite && !there && !may_create) {
    Fail("no store at " + path +
         ": give weftd's data directory (--data-dir or WEFT_DATA_DIR), or "
         "--store postgres with --database-url (weftd's --config file is "
         "not read)");
  }
  // A store that exists is not upgraded here: an older weftd serving it
  // would refuse to start on it afterwards.
  const bool migrate = may_create && !there;
  auto s =
      OpenConfiguredStore(f.store, f.data_dir, f.database_url, {}, migrate);
  if (!s.ok()) Fail("cannot open the store: " + s.status().ToString());
  return std::move(*s);
}

void CreateUser(const UserFlags& f) {
  if (!auth::IsValidEmail(f.email)) Fail("not a valid email: " + f.email);
  std::string email = auth::NormalizeEmail(f.email);
  auto name_chars = auth::Utf8Length(f.display_name);
  if (!name_chars || *name_chars < 1 || *name_chars > 100) {
    Fail("--display-name must be 1 to 100 characters");
  }
  std::string password = ReadPassword();
  CheckPolicy(password, email, f.display_name);
  auto store = Open(f.where, /*may_create=*/true);
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  store::User user{auth::RandomUrlSafeString(16), email, f.display_name,
                   Hash(password), now};
  if (Status s = store->metadata().CreateUser(user); !s.ok()) {
    if (s.code() == StatusCode::kAlreadyExists) {
      Fail("an account with this email exists");
    }
    Fail(s.ToString());
  }
  std::cout << user.id << "\n";
}

void ResetPassword(const UserFlags& f) {
  auto store = Open(f.where, /*may_create=*/false);
  auto user = store->metadata().GetUserByEmail(auth::NormalizeEmail(f.email));
  if (!user.ok()) Fail("no account with this email");
  std::string password = ReadPassword();
  CheckPolicy(password, user->email, user->display_name);
  // A new token version: access tokens die at once.
  std::string hash = Hash(password);
  if (Status s = store->metadata().SetPasswordHash(
          user->id, user->password_hash, hash,
          store::NextTokenVersion(*user, hash));
      !s.ok()) {
    Fail(s.code() == StatusCode::kFailedPrecondition
             ? "the password was changed meanwhile; run the command again"
             : s.ToString());
  }
  // A running weftd reads the feed every second and closes the user's
  // live sync sessions (their tokens are now stale). Told first, so that
  // a failure to revoke the refresh tokens below does not leave them open.
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  if (auto id = store->metadata().RecordAccessChange(user->id, now); !id.ok()) {
    Fail(
        "password replaced, but running servers were not told to end the "
        "live sessions (they end when their access token expires): " +
        id.status().ToString());
  }
  if (Status s = store->metadata().RevokeUserRefreshFamilies(user->id);
      !s.ok()) {
    Fail(
        "password replaced and live sessions ended, but signed-in devices "
        "could not be signed out (run the command again): " +
        s.ToString());
  }
  std::cout << "password replaced; every session of " << user->email
            << " has ended\n";
}

}  // namespace

void AddUserCommands(CLI::App& app) {
  auto* user = app.add_subcommand("user", "Manage accounts");
  user->require_subcommand(1);
  auto flags = std::make_shared<UserFlags>();

  auto* create = user->add_subcommand(
      "create", "Create an account; the password is read from stdin");
  create->add_option("--email", flags->email, "Email address")->required();
  create->add_option("--display-name", flags->display_name, "Display name")
      ->required();
  AddStoreFlags(create, flags->where);
  create->callback([flags] { CreateUser(*flags); });

  auto* reset = user->add_subcommand(
      "reset-password",
      "Replace a password (read from stdin) and end every session");
  reset->add_option("--email", flags->email, "Email address")->required();
  AddStoreFlags(reset, flags->where);
  reset->callback([flags] { ResetPassword(*flags); });
}

}  // namespace weft::app
