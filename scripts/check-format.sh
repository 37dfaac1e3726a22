#!/usr/bin/env bash
# Fails if any C file differs from what the repo's .clang-format produces.
set -u
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format not installed (scripts/setup.sh installs it)"; exit 1; }
bad=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find sim stack tests bench -name '*.[ch]'); do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "check-format: $f is not formatted (run: clang-format -i $f)"; bad=1
  fi
done
[ $bad -eq 0 ] && echo "check-format: ok"
exit $bad
