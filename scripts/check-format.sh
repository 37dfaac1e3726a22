#!/usr/bin/env bash
# Fails if any C file differs from what the repo's .clang-format produces.
set -u
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format not installed (scripts/setup.sh installs it)"; exit 1; }
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find sim stack tests bench -name '*.[ch]')
# One clang-format process for all files; it names each one that differs.
if ! out=$(clang-format --dry-run --Werror $files 2>&1); then
  echo "$out" | grep -oE '^[^:]+\.[ch]:' | sort -u | sed 's/:$//' |
    while read -r f; do echo "check-format: $f is not formatted (run: clang-format -i $f)"; done
  exit 1
fi
echo "check-format: ok"
