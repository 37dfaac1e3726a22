#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` builds it from the build tree; its
# metadata names the libraries it needs and apt can resolve them here; its
# files are where the help says. Then one of two ways to try it, chosen by
# the second argument (ctest runs both, as package/deb and package/deb_install):
#
#   unpack   dpkg -x into a scratch root, any user: the unpacked tcpsim runs
#            scenarios from outside the source tree, finding its own library.
#   install  dpkg -i into this system, as on a user's machine: the installed
#            tcpsim on PATH runs a scenario from outside the source tree,
#            then dpkg --purge removes it. Only root can do this; any other
#            user gets exit status 77, which ctest reports as Skipped, never
#            as passed. The package is purged on every exit path the shell
#            sees (end, failure, INT, TERM, HUP); a run killed outright
#            leaves a marker, and the next run purges what it left.
#            Runs of this test on one machine take turns (a lock file), and
#            a tcpsim package installed by someone else is left alone (77).
set -u
build=$(realpath "$1")
mode=${2:-unpack}
case $mode in unpack | install) ;; *) echo "usage: deb.sh BUILD [unpack|install]" >&2; exit 2 ;; esac
if [ "$mode" = install ] && [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: dpkg -i needs root (this is uid $(id -u)); dpkg -i was NOT tested."
  echo "The unpacked package (dpkg -x) is tested by package/deb."
  exit 77
fi
tmp=$(mktemp -d)
marker=/run/lock/tcpsim-package-test.installed
installed_here=0
cleanup() {
  if [ "$installed_here" = 1 ]; then
    dpkg --purge tcpsim >"$tmp/purge-on-exit.log" 2>&1 || { echo "cleanup: dpkg --purge tcpsim failed:"; cat "$tmp/purge-on-exit.log"; }
    rm -f "$marker"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
echo "path: $([ "$mode" = install ] && echo "dpkg -i (installed into this system as root, purged afterwards)" || echo "dpkg -x (unpacked into a scratch root)")"

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

# The scenario and `tcpsim new`, with the tcpsim at $1.
try_package() {
  local t=$1 out rc
  out=$(cd "$tmp/elsewhere" && env -u TCPSIM_PATH "$t" run lost_ack.lua --ladder 2>&1); rc=$?
  check "the packaged tcpsim runs a scenario from outside the tree" '[ $rc -eq 0 ] && grep -q "^PASS" <<<"$out"' || echo "$out" | tail -5
  out=$(cd "$tmp/elsewhere" && rm -f fresh.lua && "$t" new fresh >/dev/null && "$t" run fresh.lua 2>&1); rc=$?
  check "tcpsim new, then run, with the packaged command" '[ $rc -eq 0 ]' || echo "$out" | tail -5
}

if [ "$mode" = unpack ]; then
  dpkg -x "$deb" "$tmp/root"
  try_package "$tmp/root/usr/bin/tcpsim"
  check "the packaged manual renders" 'groff -man -Tascii -ww -z "$tmp/root/usr/share/man/man1/tcpsim.1" 2>&1 | { ! grep -q .; }'
  echo "path taken: dpkg -x (dpkg -i is package/deb_install's, as root)"
  exit $fail
fi

# ---- dpkg -i, as root ----
exec 9>/run/lock/tcpsim-package-test.lock
flock -w 600 9 || { echo "FAILED: another run of this test held the lock for 10 minutes"; exit 1; }
status() { dpkg-query -W -f='${db:Status-Status}' tcpsim 2>/dev/null; }
if [ -n "$(status)" ] && [ "$(status)" != not-installed ]; then
  if [ -e "$marker" ]; then
    echo "a run of this test was killed with tcpsim installed: purging it first"
    dpkg --purge tcpsim >"$tmp/purge-leftover.log" 2>&1 || { cat "$tmp/purge-leftover.log"; exit 1; }
    rm -f "$marker"
  else
    echo "SKIPPED: a tcpsim package ($(status)) is installed here, not by this test; not replacing it."
    echo "dpkg -i was NOT tested."
    exit 77
  fi
fi
installed_here=1
: >"$marker"
dpkg -i "$deb" >"$tmp/dpkg-i.log" 2>&1; rc=$?
check "dpkg -i installs the package" '[ $rc -eq 0 ] && [ "$(status)" = installed ]' || tail "$tmp/dpkg-i.log"
found=$(cd "$tmp/elsewhere" && PATH=/usr/local/bin:/usr/bin:/bin command -v tcpsim)
check "tcpsim is on PATH as /usr/bin/tcpsim ($found)" '[ "$found" = /usr/bin/tcpsim ]'
try_package /usr/bin/tcpsim
out=$(cd "$tmp/elsewhere" && env -u TCPSIM_PATH PATH=/usr/bin:/bin tcpsim run lost_ack.lua 2>&1); rc=$?
check "the scenario runs as a user types it (tcpsim from PATH)" '[ $rc -eq 0 ] && grep -q "^PASS" <<<"$out"' || echo "$out" | tail -5
dpkg --purge tcpsim >"$tmp/purge.log" 2>&1; rc=$?
check "dpkg --purge removes it, leaving no /usr/bin/tcpsim or library" \
  '[ $rc -eq 0 ] && [ ! -e /usr/bin/tcpsim ] && [ ! -e /usr/share/tcpsim ] && [ "$(status)" != installed ]' || tail "$tmp/purge.log"
[ $rc -eq 0 ] && { installed_here=0; rm -f "$marker"; }
echo "path taken: dpkg -i (installed, run, purged)"
exit $fail
