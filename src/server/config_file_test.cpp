#include "server/config_file.h"

#include <gtest/gtest.h>

namespace weft::server {
namespace {

TEST(ConfigFileTest, AppliesEveryKey) {
  ServerConfig c;
  Status s = ApplyConfigText(R"(
[server]
bind = "0.0.0.0"
port = 9090
data_dir = "/var/lib/weft"
web_dir = "/srv/weft-web"
threads = 3
max_header_bytes = 8192
max_body_bytes = 2048
idle_timeout_s = 5
shutdown_grace_s = 2
)",
                             "weftd.toml", &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.bind, "0.0.0.0");
  EXPECT_EQ(c.port, 9090);
  EXPECT_EQ(c.data_dir, "/var/lib/weft");
  EXPECT_EQ(c.web_dir, "/srv/weft-web");
  EXPECT_EQ(c.threads, 3u);
  EXPECT_EQ(c.max_header_bytes, 8192u);
  EXPECT_EQ(c.max_body_bytes, 2048u);
  EXPECT_EQ(c.idle_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.shutdown_grace, std::chrono::seconds(2));
}

TEST(ConfigFileTest, AppliesStoreAndApiTables) {
  ServerConfig c;
  Status s = ApplyConfigText(R"(
[store]
kind = "postgres"
database_url = "postgresql://weft@db/weft"
[api]
mode = "production"
public_url = "https://weft.example.com"
auth_rate_limit = 20
api_rate_limit = 120
login_rate_limit = 5
smtp_url = "smtps://mail.example.com:465"
smtp_from = "weft@example.com"
invitation_ttl_s = 3600
document_retention_s = 86400
)",
                             "weftd.toml", &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.store.kind, "postgres");
  EXPECT_EQ(c.store.database_url, "postgresql://weft@db/weft");
  EXPECT_EQ(c.api.mode, "production");
  EXPECT_EQ(c.api.public_url, "https://weft.example.com");
  EXPECT_EQ(c.api.auth_rate_limit, 20);
  EXPECT_EQ(c.api.api_rate_limit, 120);
  EXPECT_EQ(c.api.login_rate_limit, 5);
  EXPECT_EQ(c.api.smtp_url, "smtps://mail.example.com:465");
  EXPECT_EQ(c.api.smtp_from, "weft@example.com");
  EXPECT_EQ(c.api.invitation_ttl_s, 3600);
  EXPECT_EQ(c.api.document_retention_s, 86400);
  ServerConfig d;
  EXPECT_FALSE(ApplyConfigText("[store]\nkind = \"mysql\"\n", "f", &d).ok());
  EXPECT_FALSE(ApplyConfigText("[api]\nmode = \"prod\"\n", "f", &d).ok());
  EXPECT_FALSE(ApplyConfigText("[api]\njwt_secret = \"x\"\n", "f", &d).ok())
      << "secrets do not belong in the file";
  EXPECT_EQ(d.store.kind, "sqlite");
}

TEST(ConfigFileTest, AppliesSyncTable) {
  ServerConfig c;
  Status s = ApplyConfigText(R"(
[sync]
snapshot_every = 50
snapshot_after_s = 60
unload_interval_s = 5
max_outbound_bytes = 65536
broadcast_interval_ms = 8
)",
                             "weftd.toml", &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.sync.snapshot_every, 50u);
  EXPECT_EQ(c.sync.snapshot_after_s, 60);
  EXPECT_EQ(c.sync.unload_interval_s, 5);
  EXPECT_EQ(c.sync.max_outbound_bytes, 65536);
  EXPECT_EQ(c.sync.broadcast_interval_ms, 8);
  ServerConfig d;
  EXPECT_FALSE(
      ApplyConfigText("[sync]\nbroadcast_interval_ms = 5000\n", "f", &d).ok());
  EXPECT_FALSE(ApplyConfigText("[sync]\nsnapshot_every = 0\n", "f", &d).ok());
  EXPECT_FALSE(ApplyConfigText("[sync]\nsnapshot_after_s = 0\n", "f", &d).ok());
  EXPECT_FALSE(
      ApplyConfigText("[sync]\nmax_outbound_bytes = 10\n", "f", &d).ok());
  EXPECT_FALSE(ApplyConfigText("[sync]\npresence = 1\n", "f", &d).ok());
  EXPECT_EQ(d.sync.snapshot_every, 1000u);
}

TEST(ConfigFileTest, KeysNotInTheFileKeepTheirValues) {
  ServerConfig c;
  c.bind = "10.0.0.1";
  ASSERT_TRUE(ApplyConfigText("[server]\nport = 1\n", "f", &c).ok());
  EXPECT_EQ(c.bind, "10.0.0.1");
  EXPECT_EQ(c.port, 1);
}

void ExpectRejected(const std::string& text, const std::string& fragment) {
  ServerConfig c;
  c.port = 4242;
  Status s = ApplyConfigText(text, "weftd.toml", &c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << text;
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
  EXPECT_EQ(c.port, 4242) << "config changed on error";
}

TEST(ConfigFileTest, RejectsBadInputWithoutChangingAnything) {
  ExpectRejected("[server]\nport = 1\nprot = 8080\n",
                 "unknown key 'server.prot'");
  ExpectRejected("[server]\nport = 70000\n", "between 0 and 65535");
  ExpectRejected("[server]\nport = \"80\"\n", "must be an integer");
  ExpectRejected("[server]\nbind = 1\n", "must be a string");
  ExpectRejected("[serve]\nport = 1\n", "unknown table 'serve'");
  ExpectRejected("[server]\nport = = 1\n", "weftd.toml:2");
  ExpectRejected("[server]\nport = 1\nidle_timeout_s = 0\n", "idle_timeout_s");
}

TEST(ConfigFileTest, MissingFileIsAnError) {
  ServerConfig c;
  Status s = ApplyConfigFile("/nonexistent/weftd.toml", &c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("/nonexistent/weftd.toml"), std::string::npos);
}

}  // namespace
}  // namespace weft::server
