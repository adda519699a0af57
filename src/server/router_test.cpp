#include "server/router.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace weft::server {
namespace {

HttpRequest Req(std::string method, std::string path) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  r.request_id = "rid-1";
  return r;
}

Router MakeRouter() {
  Router router;
  router.Add("GET", "/livez", [](const HttpRequest&, const PathParams&) {
    HttpResponse r;
    r.body = "live";
    return r;
  });
  router.Add("GET", "/api/v1/documents/{id}",
             [](const HttpRequest&, const PathParams& p) {
               HttpResponse r;
               r.body = "doc " + p.at("id");
               return r;
             });
  router.Add("DELETE", "/api/v1/documents/{id}",
             [](const HttpRequest&, const PathParams& p) {
               HttpResponse r;
               r.status = 204;
               r.body = "deleted " + p.at("id");
               return r;
             });
  return router;
}

TEST(RouterTest, MatchesLiteralRoute) {
  auto r = MakeRouter().Dispatch(Req("GET", "/livez"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "live");
}

TEST(RouterTest, CapturesParameters) {
  Router router = MakeRouter();
  EXPECT_EQ(router.Dispatch(Req("GET", "/api/v1/documents/abc")).body,
            "doc abc");
  EXPECT_EQ(router.Dispatch(Req("DELETE", "/api/v1/documents/7")).body,
            "deleted 7");
}

TEST(RouterTest, UnknownPathIsJson404WithStableCode) {
  auto r = MakeRouter().Dispatch(Req("GET", "/nope"));
  EXPECT_EQ(r.status, 404);
  auto json = boost::json::parse(r.body).as_object();
  const auto& error = json.at("error").as_object();
  EXPECT_EQ(error.at("code").as_string(), "not_found");
  EXPECT_EQ(error.at("request_id").as_string(), "rid-1");
  EXPECT_TRUE(error.at("details").is_object());
  EXPECT_FALSE(error.at("message").as_string().empty());
}

TEST(RouterTest, AnAnswerQuotingAPathThatIsNotUtf8IsStillJson) {
  Router router;
  router.Add("GET", "/a", [](const HttpRequest&, const PathParams&) {
    return HttpResponse{};
  });
  for (std::string method : {"GET", "PUT"}) {
    HttpRequest r;
    r.method = method;
    r.path = method == "GET" ? "/\xff\xfe/x" : "/a\xc3";
    auto response = router.Dispatch(r);
    boost::system::error_code ec;
    auto body = boost::json::parse(response.body, ec);  // checks UTF-8
    ASSERT_FALSE(ec) << method << ": " << ec.message();
    std::string message(body.at("error").at("message").as_string());
    EXPECT_NE(message.find("\xEF\xBF\xBD"), std::string::npos) << message;
  }
}

TEST(RouterTest, ParameterDoesNotMatchExtraSegments) {
  EXPECT_EQ(MakeRouter().Dispatch(Req("GET", "/api/v1/documents/a/b")).status,
            404);
  EXPECT_EQ(MakeRouter().Dispatch(Req("GET", "/api/v1/documents")).status, 404);
}

TEST(RouterTest, WrongMethodIs405WithAllow) {
  auto r = MakeRouter().Dispatch(Req("PUT", "/api/v1/documents/1"));
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(r.headers[0].second, "GET, DELETE");
}

TEST(RouterTest, ReportsMatchedPatternForMetrics) {
  std::string route;
  MakeRouter().Dispatch(Req("GET", "/api/v1/documents/42"), &route);
  EXPECT_EQ(route, "/api/v1/documents/{id}");
  MakeRouter().Dispatch(Req("GET", "/nope/1"), &route);
  EXPECT_EQ(route, "unmatched");
}

TEST(RouterTest, HeadFallsBackToGet) {
  EXPECT_EQ(MakeRouter().Dispatch(Req("HEAD", "/livez")).status, 200);
}

}  // namespace
}  // namespace weft::server
