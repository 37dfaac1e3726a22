#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` builds it from the build tree; its
# metadata names the libraries it needs and apt can resolve them here; its
# files are where the help says; unpacked into a scratch root (dpkg -x), it
# runs scenarios from outside the source tree, finding its own library.
set -u
build=$(realpath "$1")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1; rc=$?
deb=$(ls "$tmp"/pkg/tcpsim_*.deb 2>/dev/null | head -1)
check "cpack -G DEB builds a package" '[ $rc -eq 0 ] && [ -s "$deb" ]' || tail "$tmp/cpack.log"
[ -s "$deb" ] || exit 1
check "package name and version" \
  '[ "$(dpkg-deb -f "$deb" Package)" = tcpsim ] && [ -n "$(dpkg-deb -f "$deb" Version)" ]'
deps=$(dpkg-deb -f "$deb" Depends)
check "it depends on the Lua 5.4 library ($deps)" 'grep -q "liblua5.4-0" <<<"$deps"'
sim=$(apt-get install --simulate --no-install-recommends "$deb" 2>&1); rc=$?
check "apt can install it here (dependencies resolve)" '[ $rc -eq 0 ] && grep -q "Inst tcpsim\|tcpsim is already" <<<"$sim"' || echo "$sim" | tail -5
files=$(dpkg-deb -c "$deb")
for f in usr/bin/tcpsim usr/share/tcpsim/lib/pair.lua usr/share/tcpsim/types/tcpsim.lua \
         usr/share/man/man1/tcpsim.1 usr/share/doc/tcpsim/scenarios.md; do
  check "packaged: /$f" 'grep -q " \./$f$" <<<"$files"'
done

root=$tmp/root
dpkg -x "$deb" "$root"
t=$root/usr/bin/tcpsim
mkdir -p "$tmp/elsewhere"
cat >"$tmp/elsewhere/lost_ack.lua" <<'EOT'
-- Written outside the source tree: needs the packaged library.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 3, delay = "20ms", profile = "linux" }
local _, client, peer = pair.connect(sim, a, b, 443)
link:drop_next { from = a, flags = "ACK", when = function() return peer.state == "LAST_ACK" end }
client:close()
sim:run_for "1s"
peer:close()
sim:run()
expect(peer):contains { "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
EOT
out=$(cd "$tmp/elsewhere" && env -u TCPSIM_PATH "$t" run lost_ack.lua --ladder 2>&1); rc=$?
check "the packaged tcpsim runs a scenario from outside the tree" '[ $rc -eq 0 ] && grep -q "^PASS" <<<"$out"' || echo "$out" | tail -5
out=$(cd "$tmp/elsewhere" && "$t" new fresh >/dev/null && "$t" run fresh.lua 2>&1); rc=$?
check "tcpsim new, then run, with the packaged command" '[ $rc -eq 0 ]'
check "the packaged manual renders" 'groff -man -Tascii -ww -z "$root/usr/share/man/man1/tcpsim.1" 2>&1 | { ! grep -q .; }'
exit $fail
