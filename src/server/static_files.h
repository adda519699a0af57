#pragma once

#include <optional>
#include <string>

#include "server/http_message.h"

namespace weft::server {

// Serves the built web app (web/dist) from a directory: GET and HEAD of
// files under `root`, with a content type from the extension and caching
// headers (hashed build assets under /assets/ are immutable for a year;
// everything else, index.html and the service worker included, is
// "no-cache" so a new build is picked up at once).
//
// Paths are percent-decoded, then refused (nullopt) when a segment is "."
// or "..", holds a backslash or NUL, or the file resolves (symlinks
// followed) outside `root`. Paths under /api/ are never served. A path
// whose last segment has no extension and names no file gets index.html
// (the app's client-side routes: /w/123, /invite/TOKEN); a missing file with
// an extension is nullopt. nullopt means "not mine": the caller answers its
// usual 404.
//
// Thread-safe: immutable after construction; reads files per request.
class StaticFiles {
 public:
  explicit StaticFiles(std::string root);

  // Whether `root` is a directory holding index.html.
  bool Available() const;

  std::optional<HttpResponse> Serve(const HttpRequest& request) const;

  // Content type for a file name, by extension; application/octet-stream
  // when unknown.
  static std::string ContentType(const std::string& name);

 private:
  std::optional<HttpResponse> File(const std::string& relative) const;
  std::string root_;
};

}  // namespace weft::server
