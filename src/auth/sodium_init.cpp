#include "auth/sodium_init.h"

#include <sodium.h>

#include "common/check.h"

namespace weft::auth::internal {

void EnsureSodium() {
  // sodium_init() is itself thread-safe; the static makes later calls free.
  static const bool ok = sodium_init() >= 0;
  WEFT_CHECK_MSG(ok, "libsodium failed to initialise");
}

}  // namespace weft::auth::internal
