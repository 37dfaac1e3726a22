#!/usr/bin/env bash
# Runs every hostile case under Valgrind's memcheck, through check.sh, with
# tcpsim replaced by a wrapper: a memory error or a definite leak makes
# Valgrind exit 99, which check.sh reports as a wrong exit status. Slow (each
# case runs 20-50 times slower): not part of ctest.
#   tests/hostile/valgrind.sh build/tcpsim [CASE.lua ...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
tcpsim=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 77; }
wrap=$(mktemp)
trap 'rm -f "$wrap"' EXIT
cat >"$wrap" <<WRAP
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite "$tcpsim" "\$@"
WRAP
chmod +x "$wrap"
[ $# -gt 0 ] || set -- "$here"/*.lua
pass=0 fail=0
for f in "$@"; do
  if out=$(bash "$here/check.sh" "$wrap" "$f" 2>&1); then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $(basename "$f"):"
    head -c 3000 <<<"$out"
    echo
  fi
done
echo "valgrind: $pass passed, $fail failed"
[ "$fail" = 0 ]
