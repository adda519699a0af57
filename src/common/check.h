#pragma once

// WEFT_CHECK is for programmer errors only: a broken invariant crashes at
// once with the file, line and condition. Expected failures (bad input, I/O,
// hostile bytes) are returned as Status/Result values, never checked here.
// Checks stay on in release builds.

namespace weft::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr,
                              const char* message);
}  // namespace weft::internal

#define WEFT_CHECK(cond)                                            \
  do {                                                              \
    if (!(cond)) [[unlikely]]                                       \
      ::weft::internal::CheckFailed(__FILE__, __LINE__, #cond, ""); \
  } while (0)

#define WEFT_CHECK_MSG(cond, msg)                                    \
  do {                                                               \
    if (!(cond)) [[unlikely]]                                        \
      ::weft::internal::CheckFailed(__FILE__, __LINE__, #cond, msg); \
  } while (0)
