#!/usr/bin/env bash
# Checks that every C++ file git tracks or would track is formatted by .clang-format.
# `scripts/lint.sh --fix` rewrites them instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.cpp' '*.h' '*.cc' '*.hpp')
if [ ${#files[@]} -eq 0 ]; then echo "lint: no C++ files"; exit 0; fi
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/weft-lint.$$; then
  grep -E '^[^ ].*: (error|warning):' /tmp/weft-lint.$$ | cut -d: -f1 | sort -u | sed 's/^/lint: not formatted: /'
  rm -f /tmp/weft-lint.$$
  echo "lint: run 'scripts/lint.sh --fix' (clang-format) and commit" >&2
  exit 1
fi
rm -f /tmp/weft-lint.$$
echo "lint: ${#files[@]} C++ files formatted"
