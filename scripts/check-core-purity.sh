#!/usr/bin/env bash
# Fails when the engine sources include something that breaks its purity:
# Boost, threads, file streams, clocks or random engines. The engine must
# build with em++ for the browser and stay deterministic.
# Usage: check-core-purity.sh DIR
set -euo pipefail
dir=${1:?usage: check-core-purity.sh DIR}
pattern='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](boost/[^>"]*|thread|fstream|chrono|random|mutex|filesystem|format)[>"]'
if hits=$(grep -rnE "$pattern" --include='*.h' --include='*.hpp' --include='*.cpp' --include='*.cc' "$dir"); then
  echo "src/core must be pure C++20 + std (no Boost, threads, files, clocks, random engines):"
  echo "$hits"
  exit 1
fi
echo "core purity: ok ($(find "$dir" -name '*.h' -o -name '*.cpp' | wc -l) files checked)"
