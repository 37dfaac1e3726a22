#!/usr/bin/env bash
# tcpsim run/test --check: a broken stack invariant stops the run, exits 2
# and prints the checker's report. The scenario drives the stack into the
# LAST_ACK hang of tests/stack/test_check.c (B answers A's half-close with
# more data than one window, then closes): data queued, no timer armed.
#   tests/cli/check.sh TCPSIM
set -u
tcpsim=${1:?usage: check.sh TCPSIM}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/last_ack_hang.lua" <<'LUA'
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
local l = b:listen(80)
local c = a:connect(b, 80)
sim:run_for "1s"
local s = l:accept()
c:shutdown()
sim:run_for "1s"
s:send(20000)
s:close()
sim:run_for "600s"
LUA
fail=0
out=$("$tcpsim" run "$dir/last_ack_hang.lua" --quiet --check 2>&1)
rc=$?
[ $rc -eq 2 ] || { echo "run --check: exit $rc, expected 2"; fail=1; }
for want in "host B: invariant PENDING_TIMER violated" "in LAST_ACK"; do
  grep -qF -- "$want" <<<"$out" || { echo "run --check: output lacks: $want"; fail=1; }
done
echo "--- run --check (exit $rc):"; echo "$out"
out=$("$tcpsim" test --check "$dir/last_ack_hang.lua" 2>&1)
rc=$?
[ $rc -eq 1 ] || { echo "test --check: exit $rc, expected 1"; fail=1; }
grep -qF -- "invariant PENDING_TIMER violated" <<<"$out" || { echo "test --check: no report"; fail=1; }
echo "--- test --check (exit $rc):"; echo "$out"
exit $fail
