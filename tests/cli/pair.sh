#!/usr/bin/env bash
# scenarios/lib/pair.lua: pair.new sends every profile knob (the list the
# runtime reports) to tcpsim.new and only link options to sim:link; the
# library is found from a scenario outside the repository through
# TCPSIM_PATH (the installed path is checked by tests/cli/install.sh).
set -u
tcpsim=$(realpath "$1")
lib=$(realpath scenarios/lib)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }

# Every knob at the linux profile's own value, typed as profiles -v shows it.
knobs=$("$tcpsim" profiles -v | awk '$0 == "linux" {on=1; next} /^[a-z0-9]+$/ {on=0}
  on && /^  [a-z_0-9]+ / && $1 != "fixed" { v = $2; if (v ~ /^[0-9]+$/ || v == "true" || v == "false") print "  " $1 " = " v ",";
                          else print "  " $1 " = \"" v "\"," }')
nk=$(grep -c = <<<"$knobs")
cat >"$tmp/all.lua" <<EOT
local pair = require "pair"
local sim, a, b, link = pair.new {
  seed = 3, profile = "linux",
$knobs
  delay = "25ms", jitter = "0ms", bandwidth = "10Mbps", queue = 0, mtu = 1500, loss = 0,
  duplicate = 0, reorder = 0, reorder_delay = "1ms", corrupt = 0, up = true,
}
local server, client, peer = pair.connect(sim, a, b, 80)
expect(sim.profile):equals "linux"
expect(sim.now >= sim.duration "75ms"):equals(true)  -- the link's delay: three trips of 25ms
EOT
out=$(cd "$tmp" && TCPSIM_PATH="$lib" "$tcpsim" run all.lua 2>&1); rc=$?
check "pair.new takes all $nk knobs and every link option" '[ "$nk" -ge 15 ] && [ $rc -eq 0 ]' || echo "$out"

printf 'local pair = require "pair"\npair.new { dleay = "1ms" }\n' >"$tmp/typo.lua"
out=$(cd "$tmp" && TCPSIM_PATH="$lib" "$tcpsim" run typo.lua 2>&1); rc=$?
check "an unknown key is still an error naming it" '[ $rc -eq 2 ] && grep -q "dleay" <<<"$out"'

printf 'local pair = require "pair"\nlocal sim, a, b = pair.new { seed = 1 }\nlocal _, c = pair.connect(sim, a, b, 80)\nexpect(c):state "ESTABLISHED"\n' >"$tmp/outside.lua"
out=$(cd "$tmp" && env -u TCPSIM_PATH "$tcpsim" run outside.lua 2>&1); rc=$?
check "outside the repository, without TCPSIM_PATH, pair is not found" '[ $rc -eq 2 ] && grep -q "module .pair. not found" <<<"$out"'
out=$(cd "$tmp" && TCPSIM_PATH="/nonexistent:$lib" "$tcpsim" run outside.lua 2>&1); rc=$?
check "with TCPSIM_PATH (two folders) it is found, no -I" '[ $rc -eq 0 ]'
exit $fail
