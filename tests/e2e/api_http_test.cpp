// End-to-end tests of the REST API: a real weftd process on SQLite (or, in
// api_http_pg_test, on a throwaway PostgreSQL), real TCP, raw HTTP/1.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/stat.h>
#include <algorithm>
#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth/access_token.h"
#include "http_client.h"
#include "pg_server.h"
#include "process.h"
#include "server/api_layer.h"
#include "server/api_routes.h"

namespace weft::testing {
namespace {

namespace json = boost::json;

constexpr const char* kSecret = "test-secret-0123456789-abcdefghijklmnop";
constexpr const char* kPassword = "correct horse battery";

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  json::value json;

  const json::object& obj() const { return json.as_object(); }
  std::string Str(const char* key) const {
    const auto* v = json.is_object() ? obj().if_contains(key) : nullptr;
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
  }
  std::string ErrorCode() const {
    if (!json.is_object() || !obj().contains("error")) return "";
    return std::string(obj().at("error").at("code").as_string());
  }
};

std::string Exchange(std::uint16_t port, const std::string& bytes) {
  return RawExchange(port, bytes);
}

Response ParseResponse(const std::string& raw) {
  Response r;
  auto split = raw.find("\r\n\r\n");
  if (raw.size() < 12 || split == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  std::istringstream head(raw.substr(0, split));
  std::string line;
  std::getline(head, line);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(c));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
  }
  r.body = raw.substr(split + 4);
  boost::system::error_code ec;
  if (!r.body.empty()) r.json = json::parse(r.body, ec);
  return r;
}

struct Session {
  std::string user_id;
  std::string email;
  std::string access;
  std::string refresh;
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("/tmp", "weft-api-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    log_ = dir_ + "/weftd.log";
#ifdef WEFT_API_TEST_POSTGRES
    auto pg = PgServer::Start();
    ASSERT_TRUE(pg.ok()) << pg.status().ToString();
    pg_ = std::move(*pg);
    auto db = pg_->CreateDatabase();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    store_args_ = {"--store", "postgres", "--database-url", pg_->ConnInfo(*db)};
#else
    store_args_ = {"--store", "sqlite"};
#endif
  }
  void TearDown() override {
    if (pid_ > 0) StopProcess(pid_, SIGKILL, std::chrono::seconds(1));
    RemoveTree(dir_);
  }

  void Start(std::vector<std::string> extra = {}) {
    auto port = FreeLoopbackPort();
    ASSERT_TRUE(port.ok());
    port_ = *port;
    std::vector<std::string> argv = {WEFTD_PATH, "--data-dir", dir_ + "/data",
                                     "--port", std::to_string(port_)};
    // Limits out of the way unless the test sets them.
    for (const char* flag : {"--auth-rate-limit", "--api-rate-limit"}) {
      if (std::find(extra.begin(), extra.end(), flag) == extra.end()) {
        argv.insert(argv.end(), {flag, "100000"});
      }
    }
    argv.insert(argv.end(), store_args_.begin(), store_args_.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    SpawnOptions opts;
    opts.log_path = log_;
    opts.env = env_;
    auto pid = Spawn(argv, opts);
    ASSERT_TRUE(pid.ok());
    pid_ = *pid;
    for (int i = 0; i < 1000; ++i) {
      if (Call("GET", "/livez").status == 200) return;
      ASSERT_FALSE(HasExited(pid_)) << "weftd exited early:\n" << ReadLog();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "weftd did not answer /livez:\n" << ReadLog();
  }

  // Runs weftd with `extra` and `env_`, expecting it to refuse to start;
  // returns its exit status.
  int RunExpectingExit(std::vector<std::string> extra) {
    auto port = FreeLoopbackPort();
    EXPECT_TRUE(port.ok());
    std::vector<std::string> argv = {WEFTD_PATH, "--data-dir", dir_ + "/data",
                                     "--port", std::to_string(*port)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    SpawnOptions opts;
    opts.log_path = log_;
    opts.env = env_;
    auto code = RunToCompletion(argv, opts);
    EXPECT_TRUE(code.ok());
    return code.ok() ? *code : -1;
  }

  // Runs `weft user ...` with `password` on stdin; returns its exit code.
  int RunWeftUser(const std::vector<std::string>& args,
                  const std::string& password) {
    std::vector<std::string> all = args;
    all.insert(all.end(), store_args_.begin(), store_args_.end());
    all.insert(all.end(), {"--data-dir", dir_ + "/data"});
    std::vector<std::string> argv = {WEFT_PATH, "user"};
    argv.insert(argv.end(), all.begin(), all.end());
    SpawnOptions opts;
    opts.log_path = dir_ + "/weft.log";
    opts.env = {"WEFT_PASSWORD_HASH_COST=test"};
    auto code = RunWithStdinLine(argv, password, opts);
    EXPECT_TRUE(code.ok());
    return code.ok() ? *code : -1;
  }

  std::string ReadLog() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  Response Call(const std::string& method, const std::string& path,
                const std::string& body = "", const std::string& token = "",
                const std::string& extra_headers = "") {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: x\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    if (!body.empty()) {
      req += "Content-Type: application/json\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n";
    } else if (method == "POST" || method == "PATCH") {
      req += "Content-Length: 0\r\n";
    }
    req += extra_headers + "Connection: close\r\n\r\n" + body;
    return ParseResponse(Exchange(port_, req));
  }
  Response Call(const std::string& method, const std::string& path,
                const json::object& body, const std::string& token = "",
                const std::string& extra_headers = "") {
    return Call(method, path, json::serialize(body), token, extra_headers);
  }

  Session Register(const std::string& name) {
    std::string email = name + "@example.com";
    auto r = Call(
        "POST", "/api/v1/auth/register",
        json::object{
            {"email", email}, {"password", kPassword}, {"display_name", name}});
    EXPECT_EQ(r.status, 201) << r.body;
    Session s;
    if (r.status != 201) return s;
    s.user_id = std::string(r.obj().at("user").at("id").as_string());
    s.email = email;
    s.access = r.Str("access_token");
    s.refresh = r.Str("refresh_token");
    return s;
  }

  std::string CreateWorkspace(const Session& owner, const std::string& name) {
    auto r = Call("POST", "/api/v1/workspaces", json::object{{"name", name}},
                  owner.access);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Str("id");
  }

  // Invites `who` with `role` into `ws` and has them accept.
  void Join(const Session& owner, const std::string& ws, const Session& who,
            const std::string& role) {
    auto inv =
        Call("POST", "/api/v1/workspaces/" + ws + "/invitations",
             json::object{{"email", who.email}, {"role", role}}, owner.access);
    ASSERT_EQ(inv.status, 201) << inv.body;
    auto ok =
        Call("POST", "/api/v1/invitations/" + inv.Str("token") + "/accept", "",
             who.access);
    ASSERT_EQ(ok.status, 200) << ok.body;
  }

  std::string dir_;
  std::string log_;
  std::vector<std::string> store_args_;
  // weftd's environment: cheap hashing, and a known JWT secret.
  std::vector<std::string> env_ = {"WEFT_PASSWORD_HASH_COST=test",
                                   std::string("WEFT_JWT_SECRET=") + kSecret};
  std::unique_ptr<PgServer> pg_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

void ExpectError(const Response& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  ASSERT_TRUE(r.json.is_object()) << r.body;
  EXPECT_EQ(r.ErrorCode(), code) << r.body;
  const auto& error = r.obj().at("error").as_object();
  EXPECT_FALSE(error.at("message").as_string().empty());
  EXPECT_FALSE(error.at("request_id").as_string().empty());
  EXPECT_TRUE(error.at("details").is_object());
}

// Follows a {"$ref":"#/a/b"} (repeatedly) within the spec.
const json::value& Resolve(const json::object& spec, const json::value& v) {
  const json::value* at = &v;
  while (at->is_object() && at->as_object().contains("$ref")) {
    std::string ref(at->at("$ref").as_string());
    const json::value* node = nullptr;
    std::istringstream parts(ref.substr(2));  // drop "#/"
    std::string part;
    while (std::getline(parts, part, '/')) {
      node = node == nullptr ? &spec.at(part) : &node->at(part);
    }
    at = node;
  }
  return *at;
}

// Why `value` does not match `schema` (the subset of JSON Schema the spec
// uses: $ref, type (one or a list), required, properties,
// additionalProperties: false, items, enum); "" when it matches.
std::string Mismatch(const json::object& spec, const json::value& schema_ref,
                     const json::value& value, const std::string& where) {
  const json::object& schema = Resolve(spec, schema_ref).as_object();
  if (const auto* type = schema.if_contains("type")) {
    auto is = [&](std::string_view t) {
      if (t == "object") return value.is_object();
      if (t == "array") return value.is_array();
      if (t == "string") return value.is_string();
      if (t == "integer") return value.is_int64() || value.is_uint64();
      if (t == "boolean") return value.is_bool();
      if (t == "null") return value.is_null();
      return false;
    };
    bool ok = false;
    if (type->is_string()) {
      ok = is(type->as_string());
    } else {
      for (const auto& t : type->as_array()) ok = ok || is(t.as_string());
    }
    if (!ok) return where + " has the wrong type";
  }
  if (const auto* values = schema.if_contains("enum")) {
    bool found = false;
    for (const auto& e : values->as_array()) found = found || e == value;
    if (!found) return where + " is not one of the enum values";
  }
  if (value.is_object()) {
    if (const auto* required = schema.if_contains("required")) {
      for (const auto& key : required->as_array()) {
        if (!value.as_object().contains(key.as_string())) {
          return where + "." + std::string(key.as_string()) + " is missing";
        }
      }
    }
    const auto* props = schema.if_contains("properties");
    for (const auto& [key, v] : value.as_object()) {
      const json::value* sub =
          props != nullptr ? props->as_object().if_contains(key) : nullptr;
      if (sub == nullptr) {
        if (const auto* extra = schema.if_contains("additionalProperties");
            extra != nullptr && extra->is_bool() && !extra->as_bool()) {
          return where + "." + std::string(key) + " is not in the schema";
        }
        continue;
      }
      std::string why = Mismatch(spec, *sub, v, where + "." + std::string(key));
      if (!why.empty()) return why;
    }
  }
  if (value.is_array()) {
    if (const auto* items = schema.if_contains("items")) {
      for (std::size_t i = 0; i < value.as_array().size(); ++i) {
        std::string why = Mismatch(spec, *items, value.as_array()[i],
                                   where + "[" + std::to_string(i) + "]");
        if (!why.empty()) return why;
      }
    }
  }
  return "";
}

TEST_F(ApiTest, RegisterLoginAndProfile) {
  Start();
  auto reg = Call("POST", "/api/v1/auth/register",
                  json::object{{"email", "Ann@Example.com"},
                               {"password", kPassword},
                               {"display_name", "Ann"}});
  ASSERT_EQ(reg.status, 201) << reg.body;
  const auto& user = reg.obj().at("user").as_object();
  EXPECT_EQ(user.at("email").as_string(), "ann@example.com");
  EXPECT_EQ(user.at("display_name").as_string(), "Ann");
  EXPECT_EQ(reg.obj().at("expires_in").as_int64(), 900);
  EXPECT_FALSE(reg.Str("refresh_token").empty());

  ExpectError(Call("POST", "/api/v1/auth/register",
                   json::object{{"email", "ann@example.com"},
                                {"password", kPassword},
                                {"display_name", "Other"}}),
              409, "email_taken");
  auto weak = Call("POST", "/api/v1/auth/register",
                   json::object{{"email", "bob@example.com"},
                                {"password", "short"},
                                {"display_name", "Bob"}});
  ExpectError(weak, 400, "validation_failed");
  EXPECT_EQ(weak.obj().at("error").at("details").at("fields").at("password"),
            "too_short");

  ExpectError(Call("POST", "/api/v1/auth/login",
                   json::object{{"email", "ann@example.com"},
                                {"password", "wrong password!!"}}),
              401, "invalid_credentials");
  ExpectError(Call("POST", "/api/v1/auth/login",
                   json::object{{"email", "nobody@example.com"},
                                {"password", kPassword}}),
              401, "invalid_credentials");
  auto login =
      Call("POST", "/api/v1/auth/login",
           json::object{{"email", "ANN@example.com"}, {"password", kPassword}});
  ASSERT_EQ(login.status, 200) << login.body;
  std::string token = login.Str("access_token");

  auto me = Call("GET", "/api/v1/me", "", token);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.Str("email"), "ann@example.com");
  ExpectError(Call("GET", "/api/v1/me"), 401, "unauthenticated");
  auto patched = Call("PATCH", "/api/v1/me",
                      json::object{{"display_name", "Ann B"}}, token);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Call("GET", "/api/v1/me", "", token).Str("display_name"), "Ann B");
  ExpectError(
      Call("PATCH", "/api/v1/me", json::object{{"display_name", ""}}, token),
      400, "validation_failed");
}

TEST_F(ApiTest, TamperedForgedAndExpiredTokensAreRefused) {
  Start();
  Session ann = Register("ann");
  ASSERT_EQ(Call("GET", "/api/v1/me", "", ann.access).status, 200);
  // Flip one character of the signature.
  std::string tampered = ann.access;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  ExpectError(Call("GET", "/api/v1/me", "", tampered), 401, "unauthenticated");
  // alg none: header {"alg":"none"} with the real payload, no signature.
  auto dot = ann.access.find('.');
  auto dot2 = ann.access.find('.', dot + 1);
  std::string none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0" +
                     ann.access.substr(dot, dot2 - dot) + ".";
  ExpectError(Call("GET", "/api/v1/me", "", none), 401, "unauthenticated");
  // Signed with another secret.
  auto other =
      auth::AccessTokenCodec::Create("another-secret-0123456789-abcdefghij");
  ASSERT_TRUE(other.ok());
  auto now = std::chrono::system_clock::now();
  ExpectError(Call("GET", "/api/v1/me", "",
                   other->Sign(other->NewClaims(ann.user_id, "", 0, now))),
              401, "unauthenticated");
  // The right secret, but expired an hour ago.
  auto codec = auth::AccessTokenCodec::Create(kSecret);
  ASSERT_TRUE(codec.ok());
  auto expired = Call("GET", "/api/v1/me", "",
                      codec->Sign(codec->NewClaims(
                          ann.user_id, "", 0, now - std::chrono::hours(2))));
  ExpectError(expired, 401, "unauthenticated");
  EXPECT_NE(expired.body.find("expired"), std::string::npos) << expired.body;
  // The right secret and time, but not the user's token version.
  ExpectError(Call("GET", "/api/v1/me", "",
                   codec->Sign(codec->NewClaims(ann.user_id, "", 12345, now))),
              401, "unauthenticated");
  ExpectError(Call("GET", "/api/v1/me", "", "", "Authorization: Basic abc\r\n"),
              401, "unauthenticated");
}

TEST_F(ApiTest, RefreshRotatesAndReuseEndsTheSession) {
  Start();
  Session ann = Register("ann");
  auto first = Call("POST", "/api/v1/auth/refresh",
                    json::object{{"refresh_token", ann.refresh}});
  ASSERT_EQ(first.status, 200) << first.body;
  std::string next = first.Str("refresh_token");
  EXPECT_NE(next, ann.refresh);
  EXPECT_EQ(Call("GET", "/api/v1/me", "", first.Str("access_token")).status,
            200);
  // The used token again: reuse. The whole family ends, the newest too.
  ExpectError(Call("POST", "/api/v1/auth/refresh",
                   json::object{{"refresh_token", ann.refresh}}),
              401, "invalid_refresh_token");
  ExpectError(Call("POST", "/api/v1/auth/refresh",
                   json::object{{"refresh_token", next}}),
              401, "invalid_refresh_token");
  ExpectError(Call("POST", "/api/v1/auth/refresh",
                   json::object{{"refresh_token", "garbage"}}),
              401, "invalid_refresh_token");

  // Logout ends a session; other sessions live on.
  auto a = Call("POST", "/api/v1/auth/login",
                json::object{{"email", ann.email}, {"password", kPassword}});
  auto b = Call("POST", "/api/v1/auth/login",
                json::object{{"email", ann.email}, {"password", kPassword}});
  EXPECT_EQ(Call("POST", "/api/v1/auth/logout",
                 json::object{{"refresh_token", a.Str("refresh_token")}})
                .status,
            204);
  ExpectError(Call("POST", "/api/v1/auth/refresh",
                   json::object{{"refresh_token", a.Str("refresh_token")}}),
              401, "invalid_refresh_token");
  EXPECT_EQ(Call("POST", "/api/v1/auth/refresh",
                 json::object{{"refresh_token", b.Str("refresh_token")}})
                .status,
            200);
}

TEST_F(ApiTest, PasswordChangeEndsEverySession) {
  Start();
  Session ann = Register("ann");
  std::string new_password = "a much better passphrase";
  ExpectError(Call("POST", "/api/v1/me/password",
                   json::object{{"current_password", "wrong password!"},
                                {"new_password", new_password}},
                   ann.access),
              403, "invalid_credentials");
  auto changed = Call("POST", "/api/v1/me/password",
                      json::object{{"current_password", kPassword},
                                   {"new_password", new_password}},
                      ann.access);
  ASSERT_EQ(changed.status, 200) << changed.body;
  ExpectError(Call("GET", "/api/v1/me", "", ann.access), 401,
              "unauthenticated");
  ExpectError(Call("POST", "/api/v1/auth/refresh",
                   json::object{{"refresh_token", ann.refresh}}),
              401, "invalid_refresh_token");
  EXPECT_EQ(Call("GET", "/api/v1/me", "", changed.Str("access_token")).status,
            200);
  EXPECT_EQ(Call("POST", "/api/v1/auth/login",
                 json::object{{"email", ann.email}, {"password", new_password}})
                .status,
            200);
}

// The reset token from the last development-mailer line sent to `email`.
std::string ResetTokenFromLog(const std::string& log,
                              const std::string& email) {
  std::istringstream in(log);
  std::string line, token;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (ec || !v.is_object() || !v.as_object().contains("body")) continue;
    if (v.at("to").as_string() != email) continue;
    std::string body(v.at("body").as_string());
    auto at = body.find("token=");
    if (at == std::string::npos) continue;
    auto end = body.find_first_of(" \n", at);
    token = body.substr(at + 6, end == std::string::npos ? end : end - at - 6);
  }
  return token;
}

TEST_F(ApiTest, PasswordResetIsSingleUseAndSilentAboutAccounts) {
  Start();
  Session ann = Register("ann");
  auto known = Call("POST", "/api/v1/auth/password-reset/request",
                    json::object{{"email", ann.email}});
  auto unknown = Call("POST", "/api/v1/auth/password-reset/request",
                      json::object{{"email", "nobody@example.com"}});
  EXPECT_EQ(known.status, 202);
  EXPECT_EQ(unknown.status, 202);
  EXPECT_EQ(known.body, unknown.body);
  std::string token;
  for (int i = 0; i < 500 && token.empty(); ++i) {  // the mailer is queued
    token = ResetTokenFromLog(ReadLog(), ann.email);
    if (token.empty())
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(token.empty()) << ReadLog();
  EXPECT_TRUE(ResetTokenFromLog(ReadLog(), "nobody@example.com").empty());
  std::string fresh = "reset passphrase number one";
  ExpectError(
      Call("POST", "/api/v1/auth/password-reset/confirm",
           json::object{{"token", token + "x"}, {"new_password", fresh}}),
      400, "invalid_token");
  // The reset signs the owner in.
  auto reset = Call("POST", "/api/v1/auth/password-reset/confirm",
                    json::object{{"token", token}, {"new_password", fresh}});
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_EQ(Call("GET", "/api/v1/me", "", reset.Str("access_token")).status,
            200);
  ExpectError(Call("POST", "/api/v1/auth/password-reset/confirm",
                   json::object{{"token", token},
                                {"new_password", "another passphrase two"}}),
              400, "invalid_token");
  ExpectError(Call("GET", "/api/v1/me", "", ann.access), 401,
              "unauthenticated");
  EXPECT_EQ(Call("POST", "/api/v1/auth/login",
                 json::object{{"email", ann.email}, {"password", fresh}})
                .status,
            200);
}

TEST_F(ApiTest, WorkspacesMembersAndOwnership) {
  Start();
  Session ann = Register("ann"), bob = Register("bob"), cat = Register("cat");
  std::string ws = CreateWorkspace(ann, "Acme");
  auto list = Call("GET", "/api/v1/workspaces", "", ann.access);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.obj().at("items").as_array().size(), 1u);
  EXPECT_EQ(list.obj().at("items").at(0).at("role"), "owner");
  EXPECT_TRUE(Call("GET", "/api/v1/workspaces", "", bob.access)
                  .obj()
                  .at("items")
                  .as_array()
                  .empty());
  auto renamed = Call("PATCH", "/api/v1/workspaces/" + ws,
                      json::object{{"name", "Acme Inc"}}, ann.access);
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(renamed.Str("name"), "Acme Inc");

  Join(ann, ws, bob, "editor");
  Join(ann, ws, cat, "viewer");
  auto members =
      Call("GET", "/api/v1/workspaces/" + ws + "/members", "", cat.access);
  ASSERT_EQ(members.status, 200);
  ASSERT_EQ(members.obj().at("items").as_array().size(), 3u);
  for (const auto& m : members.obj().at("items").as_array()) {
    EXPECT_TRUE(m.as_object().contains("email"));
    EXPECT_TRUE(m.as_object().contains("display_name"));
    if (m.at("user_id").as_string() == bob.user_id) {
      EXPECT_EQ(m.at("role"), "editor");
    }
  }
  // The last owner can neither leave, be demoted nor be removed.
  ExpectError(
      Call("POST", "/api/v1/workspaces/" + ws + "/leave", "", ann.access), 409,
      "last_owner");
  ExpectError(
      Call("PATCH", "/api/v1/workspaces/" + ws + "/members/" + ann.user_id,
           json::object{{"role", "viewer"}}, ann.access),
      409, "last_owner");
  ExpectError(
      Call("DELETE", "/api/v1/workspaces/" + ws + "/members/" + ann.user_id, "",
           ann.access),
      409, "last_owner");
  ExpectError(
      Call("PATCH", "/api/v1/workspaces/" + ws + "/members/" + bob.user_id,
           json::object{{"role", "admin"}}, ann.access),
      400, "validation_failed");
  auto promoted =
      Call("PATCH", "/api/v1/workspaces/" + ws + "/members/" + cat.user_id,
           json::object{{"role", "editor"}}, ann.access);
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(promoted.Str("role"), "editor");

  // Transfer: bob becomes owner, ann editor.
  auto transfer =
      Call("POST", "/api/v1/workspaces/" + ws + "/transfer-ownership",
           json::object{{"user_id", bob.user_id}}, ann.access);
  ASSERT_EQ(transfer.status, 204) << transfer.body;
  EXPECT_EQ(Call("GET", "/api/v1/workspaces/" + ws, "", bob.access).Str("role"),
            "owner");
  EXPECT_EQ(Call("GET", "/api/v1/workspaces/" + ws, "", ann.access).Str("role"),
            "editor");
  ExpectError(Call("PATCH", "/api/v1/workspaces/" + ws,
                   json::object{{"name", "Mine"}}, ann.access),
              403, "forbidden");
  // Remove and leave.
  EXPECT_EQ(
      Call("DELETE", "/api/v1/workspaces/" + ws + "/members/" + cat.user_id, "",
           bob.access)
          .status,
      204);
  ExpectError(Call("GET", "/api/v1/workspaces/" + ws, "", cat.access), 404,
              "not_found");
  EXPECT_EQ(Call("POST", "/api/v1/workspaces/" + ws + "/leave", "", ann.access)
                .status,
            204);
  ExpectError(Call("GET", "/api/v1/workspaces/" + ws, "", ann.access), 404,
              "not_found");
  // Delete.
  EXPECT_EQ(Call("DELETE", "/api/v1/workspaces/" + ws, "", bob.access).status,
            204);
  ExpectError(Call("GET", "/api/v1/workspaces/" + ws, "", bob.access), 404,
              "not_found");
  EXPECT_TRUE(Call("GET", "/api/v1/workspaces", "", bob.access)
                  .obj()
                  .at("items")
                  .as_array()
                  .empty());
}

// Owner changes check the caller's role again under the workspace's lock.
// Checked only before it, an owner's concurrent transfers to several
// members each went through (the later ones made by someone who was no
// longer an owner), leaving several owners. (A race: without the check
// this test failed in 3 of 5 runs here. weftd gets 8 I/O threads, so that
// requests overlap whatever the host's core count.)
TEST_F(ApiTest, ConcurrentTransfersFromOneOwnerMakeOneNewOwner) {
  Start({"--threads", "8"});
  for (int round = 0; round < 3; ++round) {
    std::string r = std::to_string(round);
    Session ann = Register("ann" + r);
    std::string ws = CreateWorkspace(ann, "Team");
    std::vector<Session> members;
    for (int i = 0; i < 8; ++i) {
      members.push_back(Register("member" + r + "-" + std::to_string(i)));
      Join(ann, ws, members.back(), "editor");
    }
    std::vector<Response> answers(members.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < members.size(); ++i) {
      threads.emplace_back([&, i] {
        answers[i] =
            Call("POST", "/api/v1/workspaces/" + ws + "/transfer-ownership",
                 json::object{{"user_id", members[i].user_id}}, ann.access);
      });
    }
    for (auto& t : threads) t.join();
    int transferred = 0;
    for (const auto& a : answers) {
      if (a.status == 204) {
        ++transferred;
      } else {
        ExpectError(a, 403, "forbidden");
      }
    }
    EXPECT_EQ(transferred, 1);
    auto list = Call("GET", "/api/v1/workspaces/" + ws + "/members", "",
                     members[0].access);
    ASSERT_EQ(list.status, 200) << list.body;
    int owners = 0;
    for (const auto& m : list.obj().at("items").as_array()) {
      if (m.at("role").as_string() == "owner") ++owners;
    }
    EXPECT_EQ(owners, 1) << "round " << round << ": " << list.body;
  }
}

TEST_F(ApiTest, InvitationsExpireAndAreSingleUse) {
  Start({"--invitation-ttl", "1"});
  Session ann = Register("ann"), bob = Register("bob"), cat = Register("cat");
  std::string ws = CreateWorkspace(ann, "Acme");
  std::string path = "/api/v1/workspaces/" + ws + "/invitations";
  auto inv =
      Call("POST", path, json::object{{"email", bob.email}, {"role", "editor"}},
           ann.access);
  ASSERT_EQ(inv.status, 201) << inv.body;
  for (const char* key : {"id", "token", "url", "role", "expires_at"}) {
    EXPECT_TRUE(inv.obj().contains(key)) << key;
  }
  EXPECT_NE(inv.Str("url").find(inv.Str("token")), std::string::npos);
  ExpectError(
      Call("POST", path, json::object{{"email", bob.email}, {"role", "viewer"}},
           ann.access),
      409, "invitation_pending");
  // Expired after a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ExpectError(
      Call("POST", "/api/v1/invitations/" + inv.Str("token") + "/accept", "",
           bob.access),
      410, "invitation_expired");
  auto listed = Call("GET", path, "", ann.access);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.obj().at("items").at(0).at("status"), "expired");
  EXPECT_FALSE(listed.body.find(inv.Str("token")) != std::string::npos)
      << "tokens are never listed";
  // An expired invitation may be replaced.
  ASSERT_EQ(
      Call("POST", path, json::object{{"email", bob.email}, {"role", "viewer"}},
           ann.access)
          .status,
      201);
}

TEST_F(ApiTest, InvitationsAreAcceptedOnceAndRevocable) {
  Start();
  Session ann = Register("ann"), bob = Register("bob"), cat = Register("cat");
  std::string ws = CreateWorkspace(ann, "Acme");
  std::string path = "/api/v1/workspaces/" + ws + "/invitations";
  auto inv =
      Call("POST", path, json::object{{"email", bob.email}, {"role", "editor"}},
           ann.access);
  ASSERT_EQ(inv.status, 201);
  std::string accept = "/api/v1/invitations/" + inv.Str("token") + "/accept";
  ExpectError(Call("POST", accept), 401, "unauthenticated");
  // Only the account of the address it was sent to may use it.
  ExpectError(Call("POST", accept, "", cat.access), 403,
              "invitation_for_another_account");
  auto joined = Call("POST", accept, "", bob.access);
  ASSERT_EQ(joined.status, 200) << joined.body;
  EXPECT_EQ(joined.Str("role"), "editor");
  ExpectError(Call("POST", accept, "", cat.access), 409, "invitation_used");
  ExpectError(
      Call("POST", "/api/v1/invitations/win_nope/accept", "", cat.access), 404,
      "not_found");

  auto second =
      Call("POST", path, json::object{{"email", cat.email}, {"role", "viewer"}},
           ann.access);
  ASSERT_EQ(second.status, 201);
  EXPECT_EQ(
      Call("GET", path, "", ann.access).obj().at("items").as_array().size(),
      2u);
  EXPECT_EQ(
      Call("DELETE", path + "/" + second.Str("id"), "", ann.access).status,
      204);
  ExpectError(Call("DELETE", path + "/" + second.Str("id"), "", ann.access),
              404, "not_found");
  ExpectError(
      Call("POST", "/api/v1/invitations/" + second.Str("token") + "/accept", "",
           cat.access),
      404, "not_found");
}

TEST_F(ApiTest, DocumentsPaginateSearchDeleteAndRestore) {
  Start({"--document-retention", "1"});
  Session ann = Register("ann");
  std::string ws = CreateWorkspace(ann, "Acme");
  std::string docs = "/api/v1/workspaces/" + ws + "/documents";
  std::vector<std::string> ids;
  for (const char* title : {"Roadmap", "Notes", "Road trip", "Budget", "Map"}) {
    auto r = Call("POST", docs,
                  json::object{{"kind", "text"}, {"title", title}}, ann.access);
    ASSERT_EQ(r.status, 201) << r.body;
    for (const char* key :
         {"id", "workspace_id", "kind", "title", "created_at", "updated_at"}) {
      EXPECT_TRUE(r.obj().contains(key)) << key;
    }
    EXPECT_EQ(r.Str("workspace_id"), ws);
    ids.push_back(r.Str("id"));
  }
  ExpectError(
      Call("POST", docs, json::object{{"kind", "spreadsheet"}, {"title", "x"}},
           ann.access),
      400, "validation_failed");
  // Pages of two, in a stable order, covering every document once.
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = Call(
        "GET", docs + "?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor),
        "", ann.access);
    ASSERT_EQ(page.status, 200) << page.body;
    for (const auto& d : page.obj().at("items").as_array()) {
      EXPECT_TRUE(seen.insert(std::string(d.at("id").as_string())).second);
    }
    const auto& next = page.obj().at("next_cursor");
    cursor = next.is_string() ? std::string(next.as_string()) : "";
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(pages, 3);
  auto found = Call("GET", docs + "?q=ROAD", "", ann.access);
  EXPECT_EQ(found.obj().at("items").as_array().size(), 2u);

  std::string doc = "/api/v1/documents/" + ids[0];
  auto renamed =
      Call("PATCH", doc, json::object{{"title", "Plan"}}, ann.access);
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Call("GET", doc, "", ann.access).Str("title"), "Plan");
  ExpectError(Call("POST", doc + "/restore", "", ann.access), 409,
              "not_deleted");
  EXPECT_EQ(Call("DELETE", doc, "", ann.access).status, 204);
  ExpectError(Call("GET", doc, "", ann.access), 404, "not_found");
  auto trash = Call("GET", docs + "?deleted=true", "", ann.access);
  ASSERT_EQ(trash.obj().at("items").as_array().size(), 1u);
  EXPECT_EQ(
      Call("GET", docs, "", ann.access).obj().at("items").as_array().size(),
      4u);
  auto restored = Call("POST", doc + "/restore", "", ann.access);
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_EQ(Call("GET", doc, "", ann.access).status, 200);
  // Past the retention (one second here) a deleted document stays deleted.
  EXPECT_EQ(Call("DELETE", doc, "", ann.access).status, 204);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ExpectError(Call("POST", doc + "/restore", "", ann.access), 410,
              "retention_expired");
}

TEST_F(ApiTest, ActivityFeedRecordsWhoDidWhat) {
  Start();
  Session ann = Register("ann"), bob = Register("bob");
  std::string ws = CreateWorkspace(ann, "Acme");
  Join(ann, ws, bob, "editor");
  auto doc =
      Call("POST", "/api/v1/workspaces/" + ws + "/documents",
           json::object{{"kind", "board"}, {"title", "Plan"}}, bob.access);
  ASSERT_EQ(doc.status, 201);
  Call("PATCH", "/api/v1/documents/" + doc.Str("id"),
       json::object{{"title", "Plan B"}}, bob.access);
  Call("DELETE", "/api/v1/documents/" + doc.Str("id"), "", bob.access);
  Call("PATCH", "/api/v1/workspaces/" + ws + "/members/" + bob.user_id,
       json::object{{"role", "viewer"}}, ann.access);
  std::vector<std::string> kinds;
  std::string cursor;
  for (int i = 0; i < 10; ++i) {
    auto page = Call("GET",
                     "/api/v1/workspaces/" + ws + "/activity?limit=3" +
                         (cursor.empty() ? "" : "&cursor=" + cursor),
                     "", bob.access);
    ASSERT_EQ(page.status, 200) << page.body;
    for (const auto& a : page.obj().at("items").as_array()) {
      kinds.emplace_back(a.at("kind").as_string());
      EXPECT_TRUE(a.as_object().contains("created_at"));
    }
    const auto& next = page.obj().at("next_cursor");
    if (!next.is_string()) break;
    cursor = std::string(next.as_string());
  }
  std::vector<std::string> expected = {
      "member.role_changed", "document.deleted", "document.renamed",
      "document.created",    "member.joined",    "member.invited",
      "workspace.created"};
  EXPECT_EQ(kinds, expected);
}

// Every route for every kind of caller: anonymous (401), a signed-in
// non-member (404, as for a missing id), a member below the route's role
// (403), and the roles allowed (not refused).
TEST_F(ApiTest, RoleMatrix) {
  Start();
  Session owner = Register("owner"), editor = Register("editor"),
          viewer = Register("viewer"), outsider = Register("outsider");
  std::string ws = CreateWorkspace(owner, "Acme");
  Join(owner, ws, editor, "editor");
  Join(owner, ws, viewer, "viewer");
  auto doc = Call("POST", "/api/v1/workspaces/" + ws + "/documents",
                  json::object{{"kind", "text"}, {"title", "T"}}, owner.access);
  std::string d = doc.Str("id");
  auto inv =
      Call("POST", "/api/v1/workspaces/" + ws + "/invitations",
           json::object{{"email", "zed@example.com"}, {"role", "viewer"}},
           owner.access);
  std::string w = "/api/v1/workspaces/" + ws;
  enum Need { kViewer, kEditor, kOwner };
  struct Row {
    std::string method, path, body;
    Need need;
    bool destructive;  // allowed callers are not run (covered elsewhere)
  };
  std::vector<Row> rows = {
      {"GET", w, "", kViewer, false},
      {"PATCH", w, R"({"name":"Renamed"})", kOwner, false},
      {"DELETE", w, "", kOwner, true},
      {"GET", w + "/members", "", kViewer, false},
      {"PATCH", w + "/members/" + viewer.user_id, R"({"role":"viewer"})",
       kOwner, false},
      {"DELETE", w + "/members/" + viewer.user_id, "", kOwner, true},
      {"POST", w + "/leave", "", kViewer, true},
      {"POST", w + "/transfer-ownership",
       R"({"user_id":")" + editor.user_id + R"("})", kOwner, true},
      {"POST", w + "/invitations",
       R"({"email":"q@example.com","role":"viewer"})", kOwner, true},
      {"GET", w + "/invitations", "", kOwner, false},
      {"DELETE", w + "/invitations/" + inv.Str("id"), "", kOwner, true},
      {"GET", w + "/activity", "", kViewer, false},
      {"GET", w + "/documents", "", kViewer, false},
      {"POST", w + "/documents", R"({"kind":"text","title":"New"})", kEditor,
       false},
      {"GET", "/api/v1/documents/" + d, "", kViewer, false},
      {"PATCH", "/api/v1/documents/" + d, R"({"title":"Renamed"})", kEditor,
       false},
      {"DELETE", "/api/v1/documents/" + d, "", kEditor, true},
      {"POST", "/api/v1/documents/" + d + "/restore", "", kEditor, false},
  };
  struct Caller {
    const char* name;
    std::string token;
    int level;  // -2 anonymous, -1 outsider, else Need
  };
  std::vector<Caller> callers = {{"anonymous", "", -2},
                                 {"outsider", outsider.access, -1},
                                 {"viewer", viewer.access, kViewer},
                                 {"editor", editor.access, kEditor},
                                 {"owner", owner.access, kOwner}};
  for (const auto& row : rows) {
    for (const auto& caller : callers) {
      bool allowed = caller.level >= row.need;
      if (allowed && row.destructive) continue;
      auto r = Call(row.method, row.path, row.body, caller.token);
      std::string what = row.method + " " + row.path + " as " + caller.name;
      if (caller.level == -2) {
        EXPECT_EQ(r.status, 401) << what;
      } else if (caller.level == -1) {
        EXPECT_EQ(r.status, 404) << what;
      } else if (!allowed) {
        EXPECT_EQ(r.status, 403) << what;
      } else {
        EXPECT_TRUE(r.status != 401 && r.status != 403 && r.status != 404 &&
                    r.status < 500)
            << what << " -> " << r.status << " " << r.body;
      }
    }
  }
  // Signed-in routes: anonymous callers are refused, anyone signed in is not.
  for (const char* path : {"/api/v1/me", "/api/v1/workspaces"}) {
    EXPECT_EQ(Call("GET", path).status, 401) << path;
    EXPECT_EQ(Call("GET", path, "", outsider.access).status, 200) << path;
  }
  struct SignedInRoute {
    const char* method;
    std::string path, body;
  };
  std::vector<SignedInRoute> signed_in = {
      {"PATCH", "/api/v1/me", R"({"display_name":"X"})"},
      {"POST", "/api/v1/me/password",
       R"({"current_password":"x","new_password":"y"})"},
      {"POST", "/api/v1/workspaces", R"({"name":"X"})"},
      {"POST", "/api/v1/invitations/" + inv.Str("token") + "/accept", ""}};
  for (const auto& r : signed_in) {
    EXPECT_EQ(Call(r.method, r.path, r.body).status, 401) << r.path;
  }
  // Open routes need no credentials (and a bad body is a 400, not a 401).
  for (const char* path :
       {"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh",
        "/api/v1/auth/logout", "/api/v1/auth/password-reset/request",
        "/api/v1/auth/password-reset/confirm"}) {
    EXPECT_EQ(Call("POST", path, "{}").status, 400) << path;
  }
  // A missing workspace or document looks like one the caller may not see.
  EXPECT_EQ(Call("GET", "/api/v1/workspaces/nope", "", owner.access).status,
            404);
  EXPECT_EQ(Call("GET", "/api/v1/documents/nope", "", owner.access).status,
            404);
}

TEST_F(ApiTest, IdempotencyKeyReplaysTheFirstAnswer) {
  Start();
  Session ann = Register("ann");
  std::string key = "Idempotency-Key: k-123\r\n";
  auto first = Call("POST", "/api/v1/workspaces",
                    json::object{{"name", "Acme"}}, ann.access, key);
  ASSERT_EQ(first.status, 201);
  auto again = Call("POST", "/api/v1/workspaces",
                    json::object{{"name", "Acme"}}, ann.access, key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.headers["idempotent-replayed"], "true");
  ExpectError(Call("POST", "/api/v1/workspaces",
                   json::object{{"name", "Other"}}, ann.access, key),
              409, "idempotency_key_reused");
  EXPECT_EQ(Call("GET", "/api/v1/workspaces", "", ann.access)
                .obj()
                .at("items")
                .as_array()
                .size(),
            1u);
  // Another key creates another workspace; keys are per user.
  Session bob = Register("bob");
  EXPECT_NE(Call("POST", "/api/v1/workspaces", json::object{{"name", "Acme"}},
                 bob.access, key)
                .Str("id"),
            first.Str("id"));
  std::string ws = first.Str("id");
  auto d1 = Call("POST", "/api/v1/workspaces/" + ws + "/documents",
                 json::object{{"kind", "text"}, {"title", "T"}}, ann.access,
                 "Idempotency-Key: doc-1\r\n");
  auto d2 = Call("POST", "/api/v1/workspaces/" + ws + "/documents",
                 json::object{{"kind", "text"}, {"title", "T"}}, ann.access,
                 "Idempotency-Key: doc-1\r\n");
  EXPECT_EQ(d1.Str("id"), d2.Str("id"));
  EXPECT_EQ(
      Call("GET", "/api/v1/workspaces/" + ws + "/documents", "", ann.access)
          .obj()
          .at("items")
          .as_array()
          .size(),
      1u);
}

TEST_F(ApiTest, AuthRoutesAreRateLimitedPerIp) {
  Start({"--auth-rate-limit", "3"});
  json::object body{{"email", "x@example.com"}, {"password", kPassword}};
  for (int i = 0; i < 3; ++i) {
    auto r = Call("POST", "/api/v1/auth/login", body);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.headers["x-ratelimit-limit"], "3");
    EXPECT_EQ(r.headers["x-ratelimit-remaining"], std::to_string(2 - i));
    EXPECT_FALSE(r.headers["x-ratelimit-reset"].empty());
  }
  auto refused = Call("POST", "/api/v1/auth/login", body);
  ExpectError(refused, 429, "rate_limited");
  EXPECT_GE(std::stoi(refused.headers["retry-after"]), 1);
  auto metrics = Call("GET", "/metrics");
  EXPECT_NE(metrics.body.find("weft_rate_limited_total"), std::string::npos);
}

// weftd wires --login-rate-limit: failures per account, whatever the IP.
TEST_F(ApiTest, FailedSignInsAreRateLimitedPerAccount) {
  Start({"--login-rate-limit", "2"});
  Session ann = Register("ann");
  json::object wrong{{"email", ann.email}, {"password", "not the password"}};
  EXPECT_EQ(Call("POST", "/api/v1/auth/login", wrong).status, 401);
  EXPECT_EQ(Call("POST", "/api/v1/auth/login", wrong).status, 401);
  auto refused =
      Call("POST", "/api/v1/auth/login",
           json::object{{"email", ann.email}, {"password", kPassword}});
  ExpectError(refused, 429, "rate_limited");
  EXPECT_GE(std::stoi(refused.headers["retry-after"]), 1);
  auto metrics = Call("GET", "/metrics");
  EXPECT_NE(metrics.body.find(R"(limit="login_per_account")"),
            std::string::npos)
      << metrics.body;
}

TEST_F(ApiTest, OtherRoutesAreRateLimitedPerUser) {
  Start({"--api-rate-limit", "3"});
  Session ann = Register("ann"), bob = Register("bob");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Call("GET", "/api/v1/me", "", ann.access).status, 200);
  }
  auto refused = Call("GET", "/api/v1/me", "", ann.access);
  ExpectError(refused, 429, "rate_limited");
  EXPECT_FALSE(refused.headers["retry-after"].empty());
  EXPECT_EQ(Call("GET", "/api/v1/me", "", bob.access).status, 200);
}

TEST_F(ApiTest, BadInputIsRefusedAndLeavesDataIntact) {
  Start();
  Session ann = Register("ann");
  std::string ws = CreateWorkspace(ann, "Acme");
  std::string docs = "/api/v1/workspaces/" + ws + "/documents";
  ExpectError(Call("POST", "/api/v1/workspaces", "{\"name\":", ann.access), 400,
              "invalid_json");
  ExpectError(Call("POST", "/api/v1/workspaces", "[1,2]", ann.access), 400,
              "invalid_json");
  ExpectError(Call("POST", "/api/v1/workspaces", R"({"name":"a","name":"b"})",
                   ann.access),
              400, "invalid_json");
  auto wrong_type =
      Call("POST", docs, R"({"kind":1,"title":["x"]})", ann.access);
  ExpectError(wrong_type, 400, "validation_failed");
  const auto& fields = wrong_type.obj().at("error").at("details").at("fields");
  EXPECT_EQ(fields.at("kind"), "must_be_string");
  EXPECT_EQ(fields.at("title"), "must_be_string");
  auto unknown = Call("POST", "/api/v1/workspaces",
                      R"({"name":"x","owner_id":"someone"})", ann.access);
  ExpectError(unknown, 400, "validation_failed");
  EXPECT_EQ(unknown.obj().at("error").at("details").at("fields").at("owner_id"),
            "unknown_field");
  auto too_long =
      Call("POST", "/api/v1/workspaces",
           json::object{{"name", std::string(101, 'x')}}, ann.access);
  EXPECT_EQ(too_long.obj().at("error").at("details").at("fields").at("name"),
            "too_long");
  ExpectError(Call("POST", "/api/v1/auth/register",
                   json::object{{"email", "not an email"},
                                {"password", kPassword},
                                {"display_name", "X"}}),
              400, "validation_failed");
  auto huge = Call("POST", docs,
                   "{\"kind\":\"text\",\"title\":\"" +
                       std::string(2 * 1024 * 1024, 'a') + "\"}",
                   ann.access);
  EXPECT_EQ(huge.status, 413);

  // SQL metacharacters are data: stored and returned verbatim.
  std::string evil = "x'); DROP TABLE users; -- \" ; %_ \\";
  auto doc = Call("POST", docs, json::object{{"kind", "text"}, {"title", evil}},
                  ann.access);
  ASSERT_EQ(doc.status, 201) << doc.body;
  EXPECT_EQ(Call("GET", "/api/v1/documents/" + doc.Str("id"), "", ann.access)
                .Str("title"),
            evil);
  auto w2 = Call("POST", "/api/v1/workspaces", json::object{{"name", evil}},
                 ann.access);
  EXPECT_EQ(w2.Str("name"), evil);
  EXPECT_EQ(Call("PATCH", "/api/v1/me", json::object{{"display_name", evil}},
                 ann.access)
                .Str("display_name"),
            evil);
  ExpectError(
      Call("POST", "/api/v1/auth/login",
           json::object{{"email", "' OR '1'='1"}, {"password", "' OR '1'='1"}}),
      401, "invalid_credentials");
  ExpectError(Call("GET", "/api/v1/workspaces/'%20OR%20'1'='1", "", ann.access),
              404, "not_found");
  // Every other string field, too: refused or stored as data, never run.
  auto reg = Call("POST", "/api/v1/auth/register",
                  json::object{{"email", "evil@example.com"},
                               {"password", kPassword},
                               {"display_name", evil}});
  ASSERT_EQ(reg.status, 201) << reg.body;
  EXPECT_EQ(reg.obj().at("user").at("display_name").as_string(), evil);
  ExpectError(Call("POST", "/api/v1/auth/register",
                   json::object{{"email", "a'--@example.com'"},
                                {"password", kPassword},
                                {"display_name", "X"}}),
              400, "validation_failed");
  ExpectError(
      Call("POST", "/api/v1/workspaces/" + ws + "/invitations",
           json::object{{"email", evil}, {"role", "viewer"}}, ann.access),
      400, "validation_failed");
  ExpectError(Call("POST", "/api/v1/workspaces/" + ws + "/invitations",
                   json::object{{"email", "z@example.com"},
                                {"role", "owner' OR '1'='1"}},
                   ann.access),
              400, "validation_failed");
  ExpectError(Call("POST", "/api/v1/auth/refresh",
                   json::object{{"refresh_token", evil}}),
              401, "invalid_refresh_token");
  ExpectError(Call("POST", "/api/v1/auth/password-reset/confirm",
                   json::object{{"token", evil}, {"new_password", kPassword}}),
              400, "invalid_token");
  EXPECT_EQ(Call("POST", "/api/v1/auth/password-reset/request",
                 json::object{{"email", "x@example.com' OR 1=1"}})
                .status,
            400);
  ExpectError(Call("POST", "/api/v1/workspaces/" + ws + "/transfer-ownership",
                   json::object{{"user_id", evil}}, ann.access),
              400, "validation_failed");
  ExpectError(
      Call("PATCH", "/api/v1/workspaces/" + ws + "/members/x'%20OR%201=1",
           json::object{{"role", "viewer"}}, ann.access),
      404, "not_found");
  ExpectError(Call("POST", "/api/v1/invitations/win_'%20OR%201=1/accept", "",
                   ann.access),
              404, "not_found");
  auto search = Call("GET", docs + "?q=%25", "", ann.access);
  ASSERT_EQ(search.status, 200);
  EXPECT_EQ(search.obj().at("items").as_array().size(), 1u)
      << "a % in q is a literal percent sign";
  // Everything is still there.
  EXPECT_EQ(Call("GET", "/api/v1/workspaces", "", ann.access)
                .obj()
                .at("items")
                .as_array()
                .size(),
            2u);
  EXPECT_EQ(
      Call("GET", docs, "", ann.access).obj().at("items").as_array().size(),
      1u);
  EXPECT_EQ(Call("POST", "/api/v1/auth/login",
                 json::object{{"email", ann.email}, {"password", kPassword}})
                .status,
            200);
  auto members =
      Call("GET", "/api/v1/workspaces/" + ws + "/members", "", ann.access);
  ASSERT_EQ(members.obj().at("items").as_array().size(), 1u);
  EXPECT_EQ(members.obj().at("items").at(0).at("role"), "owner");
  EXPECT_TRUE(
      Call("GET", "/api/v1/workspaces/" + ws + "/invitations", "", ann.access)
          .obj()
          .at("items")
          .as_array()
          .empty());
}

TEST_F(ApiTest, ReadyzAndOpenApiDescribeEveryRoute) {
  Start();
  auto ready = Call("GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  auto spec = Call("GET", "/api/v1/openapi.json");
  ASSERT_EQ(spec.status, 200);
  ASSERT_TRUE(spec.json.is_object()) << spec.body;
  EXPECT_EQ(std::string(spec.obj().at("openapi").as_string()).substr(0, 3),
            "3.1");
  // The routes the code registers ...
  server::Router router;
  server::ApiContext context;
  server::AddApiRoutes(router, context, "");
  std::set<std::string> in_code = {"GET /readyz", "GET /api/v1/openapi.json"};
  for (const auto& [method, pattern] : server::ApiRouteTable()) {
    in_code.insert(method + " " + pattern);
  }
  // ... and those the spec describes.
  std::set<std::string> in_spec;
  for (const auto& [path, item] : spec.obj().at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      std::string m(method);
      if (m == "parameters") continue;
      for (char& c : m) c = static_cast<char>(std::toupper(c));
      in_spec.insert(m + " " + std::string(path));
    }
  }
  for (const auto& r : in_code) {
    EXPECT_TRUE(in_spec.contains(r)) << r << " is served but not in the spec";
  }
  for (const auto& r : in_spec) {
    EXPECT_TRUE(in_code.contains(r)) << r << " is in the spec but not served";
  }

  // Real answers match the schemas the spec gives for them.
  const json::object& doc = spec.obj();
  auto check = [&](const Response& r, const std::string& method,
                   const std::string& path) {
    std::string what = method + " " + path + " " + std::to_string(r.status);
    const auto& op = doc.at("paths").at(path).at(method).as_object();
    const json::value* answer =
        op.at("responses").as_object().if_contains(std::to_string(r.status));
    ASSERT_NE(answer, nullptr) << what << " is not a documented status";
    const json::value& resolved = Resolve(doc, *answer);
    const auto* content = resolved.as_object().if_contains("content");
    if (content == nullptr) {
      EXPECT_TRUE(r.body.empty()) << what;
      return;
    }
    const json::value& schema = content->at("application/json").at("schema");
    std::string why = Mismatch(doc, schema, r.json, "$");
    EXPECT_TRUE(why.empty()) << what << ": " << why << "\n" << r.body;
  };
  Session ann = Register("ann");
  check(Call("POST", "/api/v1/auth/login",
             json::object{{"email", ann.email}, {"password", kPassword}}),
        "post", "/api/v1/auth/login");
  check(Call("POST", "/api/v1/auth/login", json::object{{"email", 1}}), "post",
        "/api/v1/auth/login");
  check(Call("GET", "/api/v1/me", "", ann.access), "get", "/api/v1/me");
  auto ws = Call("POST", "/api/v1/workspaces", json::object{{"name", "W"}},
                 ann.access);
  check(ws, "post", "/api/v1/workspaces");
  std::string w = "/api/v1/workspaces/" + ws.Str("id");
  check(Call("GET", "/api/v1/workspaces", "", ann.access), "get",
        "/api/v1/workspaces");
  check(Call("GET", w + "/members", "", ann.access), "get",
        "/api/v1/workspaces/{id}/members");
  check(Call("POST", w + "/invitations",
             json::object{{"email", "x@example.com"}, {"role", "viewer"}},
             ann.access),
        "post", "/api/v1/workspaces/{id}/invitations");
  check(Call("GET", w + "/invitations", "", ann.access), "get",
        "/api/v1/workspaces/{id}/invitations");
  auto d = Call("POST", w + "/documents",
                json::object{{"kind", "canvas"}, {"title", "C"}}, ann.access);
  check(d, "post", "/api/v1/workspaces/{id}/documents");
  check(Call("GET", w + "/documents", "", ann.access), "get",
        "/api/v1/workspaces/{id}/documents");
  check(Call("GET", "/api/v1/documents/" + d.Str("id"), "", ann.access), "get",
        "/api/v1/documents/{id}");
  check(Call("DELETE", "/api/v1/documents/" + d.Str("id"), "", ann.access),
        "delete", "/api/v1/documents/{id}");
  check(Call("POST", "/api/v1/documents/" + d.Str("id") + "/restore", "",
             ann.access),
        "post", "/api/v1/documents/{id}/restore");
  check(Call("GET", w + "/activity", "", ann.access), "get",
        "/api/v1/workspaces/{id}/activity");
  check(Call("GET", w + "/activity", "", "bad"), "get",
        "/api/v1/workspaces/{id}/activity");
  check(Call("POST", "/api/v1/auth/refresh",
             json::object{{"refresh_token", ann.refresh}}),
        "post", "/api/v1/auth/refresh");
  check(Call("GET", "/readyz"), "get", "/readyz");
}

TEST_F(ApiTest, WeftUserCommandsCreateAndResetAccounts) {
  std::filesystem::create_directories(dir_ + "/data");
  ASSERT_EQ(RunWeftUser({"create", "--email", "Root@Example.com",
                         "--display-name", "Root"},
                        kPassword),
            0);
  EXPECT_NE(RunWeftUser({"create", "--email", "root@example.com",
                         "--display-name", "Again"},
                        kPassword),
            0)
      << "the email is taken";
  EXPECT_NE(RunWeftUser({"create", "--email", "weak@example.com",
                         "--display-name", "Weak"},
                        "short"),
            0)
      << "the password policy applies";
  Start();
  auto login = Call(
      "POST", "/api/v1/auth/login",
      json::object{{"email", "root@example.com"}, {"password", kPassword}});
  ASSERT_EQ(login.status, 200) << login.body;
  std::string fresh = "a fresh passphrase here";
  ASSERT_EQ(
      RunWeftUser({"reset-password", "--email", "root@example.com"}, fresh), 0);
  ExpectError(Call("GET", "/api/v1/me", "", login.Str("access_token")), 401,
              "unauthenticated");
  ExpectError(Call("POST", "/api/v1/auth/refresh",
                   json::object{{"refresh_token", login.Str("refresh_token")}}),
              401, "invalid_refresh_token");
  EXPECT_EQ(
      Call("POST", "/api/v1/auth/login",
           json::object{{"email", "root@example.com"}, {"password", fresh}})
          .status,
      200);
  EXPECT_NE(
      RunWeftUser({"reset-password", "--email", "nobody@example.com"}, fresh),
      0);
  // A data directory holding no store (not weftd's): refused, and no
  // empty store is made there (a reset there reached no server and said
  // every session had ended).
  std::filesystem::create_directories(dir_ + "/elsewhere");
  SpawnOptions opts;
  opts.log_path = dir_ + "/weft.log";
  opts.env = {"WEFT_PASSWORD_HASH_COST=test"};
  auto code =
      RunWithStdinLine({WEFT_PATH, "user", "reset-password", "--email",
                        "root@example.com", "--data-dir", dir_ + "/elsewhere"},
                       fresh, opts);
  ASSERT_TRUE(code.ok());
  EXPECT_NE(*code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/elsewhere/weft.db"));
}

#ifdef WEFT_API_TEST_POSTGRES
TEST_F(ApiTest, ReadyzFailsWhenTheDatabaseIsGone) {
  Start();
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  pg_.reset();  // stops the PostgreSQL server
  auto r = Call("GET", "/readyz");
  ExpectError(r, 503, "not_ready");
  // libpq's message (socket paths, hosts, users) is not shown to anyone.
  EXPECT_EQ(r.body.find("socket"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("connection"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/livez").status, 200) << "alive, just not ready";
}
#endif

#ifndef WEFT_API_TEST_POSTGRES
TEST_F(ApiTest, ProductionModeRefusesAMissingOrShortSecret) {
  env_ = {"WEFT_PASSWORD_HASH_COST=test"};
  EXPECT_NE(RunExpectingExit({"--mode", "production", "--store", "memory"}), 0);
  EXPECT_NE(ReadLog().find("JWT secret"), std::string::npos) << ReadLog();
  // The same from the config file; a flag overrides the file.
  std::string toml = dir_ + "/weftd.toml";
  std::ofstream(toml) << "[api]\nmode = \"production\"\n[store]\nkind = "
                         "\"memory\"\n";
  EXPECT_NE(RunExpectingExit({"--config", toml}), 0);
  store_args_ = {"--config", toml, "--mode", "development"};
  Start();
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  StopProcess(pid_, SIGKILL, std::chrono::seconds(1));
  pid_ = -1;
  env_.push_back("WEFT_JWT_SECRET=too-short");
  EXPECT_NE(RunExpectingExit({"--mode", "production", "--store", "memory"}), 0);
  // A secret from a file is accepted.
  std::string file = dir_ + "/secret";
  std::ofstream(file) << kSecret << "\n";
  env_ = {"WEFT_PASSWORD_HASH_COST=test", "WEFT_JWT_SECRET_FILE=" + file};
  store_args_ = {"--store", "memory"};
  Start({"--mode", "production"});
  Session ann = Register("ann");
  auto codec = auth::AccessTokenCodec::Create(kSecret);
  ASSERT_TRUE(codec.ok());
  EXPECT_TRUE(codec->Verify(ann.access, std::chrono::system_clock::now()).ok())
      << "tokens are signed with the file's secret";
}

TEST_F(ApiTest, DevelopmentModeKeepsAGeneratedSecret) {
  env_ = {"WEFT_PASSWORD_HASH_COST=test"};
  Start();
  Session ann = Register("ann");
  std::string path = dir_ + "/data/jwt_secret";
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // After a restart the same secret is used: the access token still works.
  StopProcess(pid_, SIGTERM, std::chrono::seconds(10));
  pid_ = -1;
  Start();
  EXPECT_EQ(Call("GET", "/api/v1/me", "", ann.access).status, 200);
}
#endif

}  // namespace
}  // namespace weft::testing
