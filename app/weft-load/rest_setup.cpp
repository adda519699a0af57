#include "rest_setup.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>

namespace weft::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

Result<json::value> ParseJson(const RestReply& r, int expect,
                              const std::string& what) {
  if (r.status != expect) {
    return Status::Unavailable(what + ": HTTP " + std::to_string(r.status) +
                               " " + r.body);
  }
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec) return Status::Corruption(what + ": bad JSON: " + r.body);
  return v;
}

std::string Str(const json::value& v, const char* key) {
  const auto* o = v.if_object();
  if (!o) return {};
  const auto* f = o->if_contains(key);
  if (!f || !f->is_string()) return {};
  return std::string(f->as_string());
}

}  // namespace

Result<Endpoint> ParseHttpUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    return Status::InvalidArgument("only http:// URLs are supported: " + url);
  }
  std::string rest = url.substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    rest.resize(slash);
  }
  Endpoint e;
  auto colon = rest.rfind(':');
  e.host = rest.substr(0, colon);
  int port = 80;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(rest.substr(colon + 1));
    } catch (...) {
      port = -1;
    }
  }
  if (e.host.empty() || port <= 0 || port > 65535) {
    return Status::InvalidArgument("bad URL: " + url);
  }
  e.port = static_cast<std::uint16_t>(port);
  return e;
}

struct RestClient::Impl {
  Endpoint endpoint;
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;

  Status Connect() {
    boost::system::error_code ec;
    tcp::resolver resolver(ioc);
    auto results =
        resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
    if (ec) return Status::Unavailable("resolve: " + ec.message());
    stream.expires_after(std::chrono::seconds(10));
    Await([&](auto done) { stream.async_connect(results, done); }, &ec);
    if (ec) return Status::Unavailable("connect: " + ec.message());
    stream.socket().set_option(tcp::no_delay(true), ec);
    buffer.clear();
    connected = true;
    return Status::Ok();
  }
  // Runs one asynchronous operation to its end on this client's own
  // context: the stream's deadline (expires_after) applies only to
  // asynchronous operations, so a server that accepted and never answers
  // (stopped, black-holed) ends the call instead of blocking it for ever.
  template <typename Start>
  void Await(Start start, boost::system::error_code* ec) {
    start([ec](boost::system::error_code e, auto&&...) { *ec = e; });
    ioc.restart();
    ioc.run();
  }
  void Disconnect() {
    boost::system::error_code ec;
    stream.socket().close(ec);
    connected = false;
  }
};

RestClient::RestClient(Endpoint endpoint) : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = std::move(endpoint);
}
RestClient::~RestClient() = default;

Result<RestReply> RestClient::Call(const std::string& method,
                                   const std::string& target,
                                   const std::string& body,
                                   const std::string& bearer) {
  auto& s = *impl_;
  int broken = 0;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    bool reused = s.connected;
    if (!s.connected) WEFT_RETURN_IF_ERROR(s.Connect());
    http::request<http::string_body> req{http::string_to_verb(method), target,
                                         11};
    req.set(http::field::host, s.endpoint.host);
    req.set(http::field::user_agent, "weft-load");
    if (!bearer.empty())
      req.set(http::field::authorization, "Bearer " + bearer);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    boost::system::error_code ec;
    s.stream.expires_after(std::chrono::seconds(60));
    s.Await([&](auto done) { http::async_write(s.stream, req, done); }, &ec);
    http::response<http::string_body> res;
    if (!ec) {
      s.Await(
          [&](auto done) { http::async_read(s.stream, s.buffer, res, done); },
          &ec);
    }
    if (ec) {
      s.Disconnect();
      // A kept connection the server closed meanwhile: try once more.
      if (reused && ++broken <= 1) continue;
      return Status::Unavailable(method + " " + target + ": " + ec.message());
    }
    if (!res.keep_alive()) s.Disconnect();
    if (res.result_int() == 429) {
      int wait_s = 1;
      if (auto it = res.find(http::field::retry_after); it != res.end()) {
        try {
          wait_s = std::max(1, std::stoi(std::string(it->value())));
        } catch (...) {
        }
      }
      std::this_thread::sleep_for(std::chrono::seconds(wait_s));
      continue;
    }
    return RestReply{static_cast<int>(res.result_int()), std::move(res.body())};
  }
  return Status::Unavailable(method + " " + target + ": rate limited");
}

Result<LoadSetup> SetUpThroughRest(const Endpoint& endpoint, int accounts,
                                   int docs, const std::string& tag,
                                   int parallel) {
  LoadSetup setup;
  RestClient rest(endpoint);
  for (int i = 0; i < accounts; ++i) {
    Account a;
    a.email = "load-" + tag + "-" + std::to_string(i) + "@example.com";
    a.password = "load-password-" + tag;
    json::object body{{"email", a.email},
                      {"password", a.password},
                      {"display_name", "load user " + std::to_string(i)}};
    auto r = rest.Call("POST", "/api/v1/auth/register", json::serialize(body));
    if (!r.ok()) return r.status();
    auto v = ParseJson(*r, 201, "register " + a.email);
    if (!v.ok()) return v.status();
    a.access_token = Str(*v, "access_token");
    if (const auto* u = v->as_object().if_contains("user")) {
      a.user_id = Str(*u, "id");
    }
    setup.accounts.push_back(std::move(a));
  }
  const std::string& owner = setup.accounts.front().access_token;
  {
    auto r = rest.Call("POST", "/api/v1/workspaces",
                       json::serialize(json::object{{"name", "load " + tag}}),
                       owner);
    if (!r.ok()) return r.status();
    auto v = ParseJson(*r, 201, "create workspace");
    if (!v.ok()) return v.status();
    setup.workspace_id = Str(*v, "id");
  }
  const std::string ws = "/api/v1/workspaces/" + setup.workspace_id;
  for (std::size_t i = 1; i < setup.accounts.size(); ++i) {
    auto& a = setup.accounts[i];
    auto r = rest.Call(
        "POST", ws + "/invitations",
        json::serialize(json::object{{"email", a.email}, {"role", "editor"}}),
        owner);
    if (!r.ok()) return r.status();
    auto v = ParseJson(*r, 201, "invite " + a.email);
    if (!v.ok()) return v.status();
    auto accept =
        rest.Call("POST", "/api/v1/invitations/" + Str(*v, "token") + "/accept",
                  "", a.access_token);
    if (!accept.ok()) return accept.status();
    if (accept->status != 200) {
      return Status::Unavailable("accept invitation: HTTP " +
                                 std::to_string(accept->status));
    }
  }
  // Documents, created by every account (each has its own rate limit) from
  // `parallel` threads.
  setup.docs.resize(static_cast<std::size_t>(docs));
  std::mutex mu;
  Status failed;
  std::vector<std::thread> workers;
  int threads = std::max(1, std::min(parallel, docs));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      RestClient own(endpoint);
      for (int d = t; d < docs; d += threads) {
        {
          std::lock_guard lock(mu);
          if (!failed.ok()) return;
        }
        const auto& a =
            setup.accounts[static_cast<std::size_t>(d) % setup.accounts.size()];
        auto r = own.Call(
            "POST", ws + "/documents",
            json::serialize(json::object{
                {"kind", "text"}, {"title", "load doc " + std::to_string(d)}}),
            a.access_token);
        Result<json::value> v =
            r.ok() ? ParseJson(*r, 201, "create document") : r.status();
        std::lock_guard lock(mu);
        if (!v.ok()) {
          failed = v.status();
          return;
        }
        setup.docs[static_cast<std::size_t>(d)] = Str(*v, "id");
      }
    });
  }
  for (auto& w : workers) w.join();
  if (!failed.ok()) return failed;
  return setup;
}

Result<std::string> FetchText(RestClient& rest, const std::string& doc,
                              const std::string& token) {
  auto r = rest.Call("GET", "/api/v1/documents/" + doc + "/content", "", token);
  if (!r.ok()) return r.status();
  auto v = ParseJson(*r, 200, "content of " + doc);
  if (!v.ok()) return v.status();
  return Str(*v, "text");
}

Result<double> FetchServerRss(RestClient& rest) {
  auto r = rest.Call("GET", "/metrics");
  if (!r.ok()) return r.status();
  std::istringstream in(r->body);
  std::string line;
  const std::string name = "process_resident_memory_bytes ";
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0) return std::stod(line.substr(name.size()));
  }
  return 0.0;
}

}  // namespace weft::load
