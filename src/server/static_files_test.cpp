#include "server/static_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "server/router.h"

namespace weft::server {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ =
        fs::temp_directory_path() /
        ("weft_static_" +
         std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    root_ = base_ / "dist";
    fs::create_directories(root_ / "assets");
    Write(root_ / "index.html", "<!doctype html>app");
    Write(root_ / "assets" / "index-abc123.js", "console.log(1)");
    Write(root_ / "assets" / "style-1.css", "body{}");
    Write(root_ / "sw.js", "self.x=1");
    Write(base_ / "secret.txt", "secret");
  }
  void TearDown() override { fs::remove_all(base_); }

  static void Write(const fs::path& p, const std::string& body) {
    std::ofstream(p, std::ios::binary) << body;
  }
  static HttpRequest Get(std::string path, std::string method = "GET") {
    HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.target = r.path;
    return r;
  }
  static std::string Header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }

  fs::path base_;
  fs::path root_;
};

TEST_F(StaticFilesTest, ServesFilesWithContentTypes) {
  StaticFiles files(root_.string());
  ASSERT_TRUE(files.Available());
  auto js = files.Serve(Get("/assets/index-abc123.js"));
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->body, "console.log(1)");
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  auto css = files.Serve(Get("/assets/style-1.css", "HEAD"));
  ASSERT_TRUE(css);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  auto index = files.Serve(Get("/"));
  ASSERT_TRUE(index);
  EXPECT_EQ(index->body, "<!doctype html>app");
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(StaticFiles::ContentType("a.SVG"), "image/svg+xml");
  EXPECT_EQ(StaticFiles::ContentType("a.wasm"), "application/wasm");
  EXPECT_EQ(StaticFiles::ContentType("noext"), "application/octet-stream");
}

TEST_F(StaticFilesTest, HashedAssetsAreImmutableOthersRevalidate) {
  StaticFiles files(root_.string());
  EXPECT_EQ(
      Header(*files.Serve(Get("/assets/index-abc123.js")), "Cache-Control"),
      "public, max-age=31536000, immutable");
  EXPECT_EQ(Header(*files.Serve(Get("/sw.js")), "Cache-Control"), "no-cache");
  EXPECT_EQ(Header(*files.Serve(Get("/")), "Cache-Control"), "no-cache");
  // The page runs only this server's scripts (no eval: the engine is built
  // without it), cannot be framed, and sends no Referer (an invitation's
  // page has its token in its address).
  const std::string csp =
      Header(*files.Serve(Get("/")), "Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self' 'wasm-unsafe-eval';"),
            std::string::npos)
      << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("'unsafe-eval'"), std::string::npos) << csp;
  EXPECT_EQ(Header(*files.Serve(Get("/w/1")), "Referrer-Policy"),
            "no-referrer");
  EXPECT_EQ(Header(*files.Serve(Get("/w/1")), "Cache-Control"), "no-cache");
}

TEST_F(StaticFilesTest, RefusesPathTraversal) {
  StaticFiles files(root_.string());
  EXPECT_FALSE(files.Serve(Get("/../secret.txt")));
  EXPECT_FALSE(files.Serve(Get("/assets/../../secret.txt")));
  EXPECT_FALSE(files.Serve(Get("/%2e%2e/secret.txt")));
  EXPECT_FALSE(files.Serve(Get("/assets/%2E%2E%2F..%2Fsecret.txt")));
  EXPECT_FALSE(files.Serve(Get("/..%5csecret.txt")));
  EXPECT_FALSE(files.Serve(Get("/index.html%00.js")));
  EXPECT_FALSE(files.Serve(Get("/bad%zzescape")));
  EXPECT_FALSE(files.Serve(Get("/bad%2")));
}

TEST_F(StaticFilesTest, RefusesSymlinkOutOfRoot) {
  std::error_code ec;
  fs::create_symlink(base_ / "secret.txt", root_ / "link.txt", ec);
  ASSERT_FALSE(ec) << ec.message();
  StaticFiles files(root_.string());
  EXPECT_FALSE(files.Serve(Get("/link.txt")));
}

TEST_F(StaticFilesTest, SpaFallbackForRoutesButNotForApiOrMissingFiles) {
  StaticFiles files(root_.string());
  auto route = files.Serve(Get("/w/abc/d/def"));
  ASSERT_TRUE(route);
  EXPECT_EQ(route->body, "<!doctype html>app");
  EXPECT_FALSE(files.Serve(Get("/api/v1/nothing")));
  EXPECT_FALSE(files.Serve(Get("/api")));
  EXPECT_FALSE(files.Serve(Get("/assets/missing-1.js")));
  EXPECT_FALSE(files.Serve(Get("/w/1", "POST")));
}

TEST_F(StaticFilesTest, MissingRootIsUnavailable) {
  StaticFiles files((base_ / "nowhere").string());
  EXPECT_FALSE(files.Available());
  EXPECT_FALSE(files.Serve(Get("/")));
}

TEST_F(StaticFilesTest, RouterFallsBackOnlyWhenNoRouteMatches) {
  StaticFiles files(root_.string());
  Router router;
  router.Add("GET", "/livez", [](const HttpRequest&, const PathParams&) {
    HttpResponse r;
    r.body = "live";
    return r;
  });
  router.SetFallback(
      [&files](const HttpRequest& request) { return files.Serve(request); });
  std::string label;
  EXPECT_EQ(router.Dispatch(Get("/livez"), &label).body, "live");
  EXPECT_EQ(label, "/livez");
  EXPECT_EQ(router.Dispatch(Get("/w/1"), &label).body, "<!doctype html>app");
  EXPECT_EQ(label, "fallback");
  auto api = router.Dispatch(Get("/api/v1/nope"), &label);
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(label, "unmatched");
}

}  // namespace
}  // namespace weft::server
