#!/usr/bin/env bash
# Builds the web app into web/dist (served by weftd, --web-dir): first the
# SDK it links (clients/js, which needs build/wasm/weft.js: `make wasm`),
# then npm ci when web/node_modules is missing or older than the lock file,
# then vite build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash clients/js/scripts/ctest.sh build
cd web
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
