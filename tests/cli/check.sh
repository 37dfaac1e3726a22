#!/usr/bin/env bash
# tcpsim run/test --check: the stack's invariants are checked after every
# event. The scenario is the one that once hung in LAST_ACK with data queued
# and no timer (B answers A's half-close with more data than one window, then
# closes; tests/stack/test_check.c builds that state by hand and checks the
# PENDING_TIMER invariant names it): with --check it must now run to the end,
# every connection CLOSED, and no invariant report.
#   tests/cli/check.sh TCPSIM
set -u
tcpsim=${1:?usage: check.sh TCPSIM}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/reply_after_half_close.lua" <<'LUA'
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
expect(s.state):equals "CLOSED"
expect(c.state):equals "CLOSED"
LUA
fail=0
for p in rfc9293 linux bsd; do
  out=$("$tcpsim" run "$dir/reply_after_half_close.lua" --quiet --check --profile $p 2>&1)
  rc=$?
  [ $rc -eq 0 ] || { echo "run --check --profile $p: exit $rc, expected 0"; echo "$out"; fail=1; }
  grep -q "invariant" <<<"$out" && { echo "run --check --profile $p: reported an invariant"; fail=1; }
done
out=$("$tcpsim" test --check "$dir/reply_after_half_close.lua" 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q "^1 passed, 0 failed" <<<"$out" || { echo "test --check: exit $rc"; echo "$out"; fail=1; }
out=$("$tcpsim" run "$dir/reply_after_half_close.lua" --check --bogus 2>&1)
[ $? -eq 2 ] || { echo "a bad option beside --check must still be refused"; fail=1; }
[ $fail -eq 0 ] && echo "check: --check runs clean under every profile, in run and test"
exit $fail
