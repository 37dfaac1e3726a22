#!/usr/bin/env bash
# `cmake --install` into a scratch prefix: the command, the scenario
# library, the editor annotations, the manual and the docs land where the
# help says, and a scenario written outside the source tree finds the
# library with no -I and no TCPSIM_PATH.
set -u
build=$(realpath "$2")
src=$PWD
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
p=$tmp/prefix
cmake --install "$build" --prefix "$p" >"$tmp/install.log" 2>&1; rc=$?
check "cmake --install succeeds" '[ $rc -eq 0 ]' || cat "$tmp/install.log"
for f in bin/tcpsim share/tcpsim/lib/pair.lua share/tcpsim/types/tcpsim.lua share/man/man1/tcpsim.1 \
         share/doc/tcpsim/README.md share/doc/tcpsim/scenarios.md share/tcpsim/scenarios/handshake/normal_open.lua; do
  check "installed: $f" '[ -s "$p/$f" ]'
done
check "the installed manual is what tcpsim man prints" 'cmp -s "$p/share/man/man1/tcpsim.1" <("$p/bin/tcpsim" man)'

mkdir -p "$tmp/outside"
cat >"$tmp/outside/mine.lua" <<'EOT'
local pair = require "pair"
local sim, a, b = pair.new { seed = 4, delay = "5ms" }
local _, client = pair.connect(sim, a, b, 8080)
expect(client):state "ESTABLISHED"
EOT
out=$(cd "$tmp/outside" && env -u TCPSIM_PATH "$p/bin/tcpsim" run mine.lua 2>&1); rc=$?
check "a scenario outside the tree finds the installed library" '[ $rc -eq 0 ] && grep -q "^PASS" <<<"$out"' || echo "$out"
out=$(cd "$tmp/outside" && env -u TCPSIM_PATH "$build/tcpsim" run mine.lua 2>&1); rc=$?
check "(the build tree's tcpsim, with no installed library, does not)" '[ $rc -eq 2 ]'
out=$(cd "$tmp/outside" && "$p/bin/tcpsim" test "$p/share/tcpsim/scenarios" 2>&1); rc=$?
check "the installed example scenarios pass" '[ $rc -eq 0 ] && tail -1 <<<"$out" | grep -q " 0 failed"'
cd "$src"
exit $fail
