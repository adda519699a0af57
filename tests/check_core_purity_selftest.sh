#!/usr/bin/env bash
# Proves check-core-purity.sh fails on each forbidden include and passes on
# allowed ones.
set -euo pipefail
check=${1:?usage: selftest.sh CHECK_SCRIPT}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <vector>\n#include <string>\n#include "core/text.h"\n' > "$tmp/ok.cpp"
bash "$check" "$tmp" >/dev/null || { echo "clean dir was rejected"; exit 1; }
for inc in '<boost/asio.hpp>' '<thread>' '<fstream>' '<chrono>' '<random>' '"boost/json.hpp"' '<mutex>'; do
  printf '#include <vector>\n  #  include %s\n' "$inc" > "$tmp/bad.h"
  if bash "$check" "$tmp" >/dev/null; then echo "missed $inc"; exit 1; fi
done
echo "purity check catches every forbidden include"
