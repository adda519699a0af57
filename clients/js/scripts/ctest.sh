#!/usr/bin/env bash
# The SDK's ctest entry points (clients/js/tests.cmake, label `sdk`).
#   ctest.sh build               npm ci (only when node_modules is older than
#                                the lock file, so offline once installed),
#                                then tsc and the engine copy (npm run build)
#   ctest.sh test WEFTD FILE...  node --test FILE... against that weftd
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  build)
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund
    fi
    npm run --silent build
    ;;
  test)
    export WEFTD="$2"
    shift 2
    exec node --experimental-websocket --no-warnings=ExperimentalWarning --test "$@"
    ;;
  *)
    echo "usage: $0 build | test WEFTD FILE..." >&2
    exit 2
    ;;
esac
