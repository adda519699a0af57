#include "common/check.h"

#include <cstdio>
#include <cstdlib>

namespace weft::internal {

void CheckFailed(const char* file, int line, const char* expr,
                 const char* message) {
  std::fprintf(stderr, "weft: check failed at %s:%d: %s %s\n", file, line, expr,
               message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace weft::internal
