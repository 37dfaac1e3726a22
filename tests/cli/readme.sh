#!/usr/bin/env bash
# The scenario the README shows under "What a scenario looks like" runs and
# passes as printed, so the example a new user copies cannot drift from the
# API (a renamed method or a refused argument fails here).
set -euo pipefail
tcpsim=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```lua$/ {on = 1; next} on && /^```$/ {exit} on' README.md > "$tmp/example.lua"
[ -s "$tmp/example.lua" ] || { echo "README.md has no lua example"; exit 1; }
rc=0
out=$("$tcpsim" run "$tmp/example.lua" 2>&1) || rc=$?
if [ $rc -ne 0 ] || ! grep -q '^PASS: ' <<<"$out"; then
  echo "README example failed (exit $rc):"
  echo "$out"
  exit 1
fi
echo "README example: ${out##*$'\n'}"
