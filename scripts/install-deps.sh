#!/usr/bin/env bash
# Installs the Debian 12 packages weft needs to build, run and test.
# Idempotent: installs only what is missing, and runs `apt-get update` at
# most once, only when something is missing. Nothing is downloaded except
# through apt (and npm, for the web parts, from their own lock files).
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build make pkg-config ccache git
  # libraries (Boost: the versioned 1.81 packages only; libboost-dev is 1.74)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libpq-dev libhiredis-dev libsodium-dev libssl-dev
  libcurl4-openssl-dev
  libspdlog-dev libfmt-dev libtomlplusplus-dev libcli11-dev
  # tests, benchmarks and style
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev zlib1g-dev
  clang-format clang-tidy
  # docs/openapi.yaml is converted to JSON at build time
  python3 python3-yaml
  # WebAssembly build (`make wasm`) and libFuzzer (clang 14)
  emscripten clang-14
  # throwaway servers started by the test harness
  postgresql-15 redis-server
  # browser tests of the web app (playwright-core drives it; never downloaded)
  chromium
)

# The web app's npm packages, from web/package-lock.json, when missing.
install_web() {
  local web
  web="$(dirname "$0")/../web"
  if [ -f "$web/package-lock.json" ] && [ ! -f "$web/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in web/"
    (cd "$web" && npm ci --no-audit --no-fund >/dev/null)
  fi
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  install_web
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts services on install; the tests start their own throwaway
# servers on free ports, so stop the packaged ones where they were started.
if command -v service >/dev/null 2>&1; then
  "${sudo[@]}" service redis-server stop >/dev/null 2>&1 || true
  "${sudo[@]}" service postgresql stop >/dev/null 2>&1 || true
fi
echo "install-deps: done"
install_web
