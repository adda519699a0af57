#pragma once

namespace weft::auth::internal {

// Initialises libsodium once per process (thread-safe, idempotent). Every
// function of weft_auth that calls libsodium calls this first; a failure
// (no usable randomness source) is fatal.
void EnsureSodium();

}  // namespace weft::auth::internal
