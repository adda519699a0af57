#pragma once

#include <string_view>

namespace weft {

// The project version from CMake's project(VERSION ...), e.g. "0.1.0".
std::string_view Version();

// The short git commit the binary was built from, with "-dirty" when the
// work tree had uncommitted changes, or "unknown" outside a git checkout.
std::string_view GitCommit();

}  // namespace weft
