#include "server/static_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <system_error>

namespace weft::server {
namespace {

namespace fs = std::filesystem;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in`; nullopt on a malformed escape.
std::optional<std::string> Decode(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// The path relative to the root ("" for "/"), or nullopt when unsafe.
std::optional<std::string> SafeRelative(const std::string& path) {
  auto decoded = Decode(path);
  if (!decoded || decoded->empty() || decoded->front() != '/')
    return std::nullopt;
  std::string rel;
  std::istringstream segments(decoded->substr(1));
  std::string seg;
  while (std::getline(segments, seg, '/')) {
    if (seg.empty()) continue;
    if (seg == "." || seg == ".." ||
        seg.find_first_of(std::string("\\\0", 2)) != std::string::npos)
      return std::nullopt;
    if (!rel.empty()) rel += '/';
    rel += seg;
  }
  return rel;
}

bool HasExtension(const std::string& rel) {
  size_t slash = rel.rfind('/');
  std::string last = slash == std::string::npos ? rel : rel.substr(slash + 1);
  return last.find('.') != std::string::npos;
}

}  // namespace

StaticFiles::StaticFiles(std::string root) : root_(std::move(root)) {}

bool StaticFiles::Available() const {
  std::error_code ec;
  return fs::is_regular_file(fs::path(root_) / "index.html", ec);
}

std::string StaticFiles::ContentType(const std::string& name) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".wasm", "application/wasm"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  std::string ext = fs::path(name).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(c));
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

std::optional<HttpResponse> StaticFiles::File(const std::string& rel) const {
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::path(root_), ec);
  if (ec) return std::nullopt;
  fs::path file = fs::weakly_canonical(root / rel, ec);
  if (ec || !fs::is_regular_file(file, ec)) return std::nullopt;
  // Symlinks may not lead out of the root.
  auto [r, f] =
      std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  if (r != root.end()) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  HttpResponse response;
  response.body.assign(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  response.content_type = ContentType(file.filename().string());
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Scripts, styles and connections from this server only (the engine's
  // WebAssembly is compiled in the page, fetched from a data: address;
  // CodeMirror and presence set styles), no framing, no page address sent
  // to other sites (an invitation's page has its token in its address).
  response.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
      "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
      "connect-src 'self' data:; object-src 'none'; base-uri 'none'; "
      "frame-ancestors 'none'; form-action 'self'");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  if (rel.rfind("assets/", 0) == 0) {
    response.headers.emplace_back("Cache-Control",
                                  "public, max-age=31536000, immutable");
  } else {
    response.headers.emplace_back("Cache-Control", "no-cache");
  }
  return response;
}

std::optional<HttpResponse> StaticFiles::Serve(
    const HttpRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") return std::nullopt;
  if (request.path == "/api" || request.path.rfind("/api/", 0) == 0)
    return std::nullopt;
  auto rel = SafeRelative(request.path);
  if (!rel) return std::nullopt;
  if (rel->empty()) return File("index.html");
  if (auto found = File(*rel)) return found;
  if (HasExtension(*rel)) return std::nullopt;
  return File("index.html");
}

}  // namespace weft::server
