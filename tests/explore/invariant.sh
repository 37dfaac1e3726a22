#!/usr/bin/env bash
# A scenario's own invariant, sim:invariant(name, fn): a failed run for
# tcpsim run, an invariant failure for tcpsim explore (reported first,
# shrunk to the known minimal schedule, emitted). Usage: invariant.sh TCPSIM
set -u
T=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The planted invariant: B's FIN is never lost. The fault-free exchange is
# RFC 9293's normal close (§3.6): SYN, SYN,ACK, ACK, A's FIN, B's ACK, then
# B's FIN (B closes a second later, so its FIN is not on the ACK), A's ACK.
# B's FIN is decision point 6, and dropping it alone breaks the invariant.
cat >"$tmp/fin.lua" <<'LUA'
local sim = tcpsim.new { seed = 3 }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "50ms" })
sim:invariant("B's FIN is never lost", function()
  for _, s in ipairs(link:segments { from = b, flags = "FIN" }) do
    if s.dropped then return false end
  end
  return true
end)
local server = b:listen(80)
local client = a:connect(b, 80)
sim:run_for "3s"
local peer = server:accept()
client:close()
sim:run_for "1s"
peer:close()
sim:run()
LUA
"$T" run "$tmp/fin.lua" --quiet >/dev/null 2>&1 || fail "the fault-free run must pass"
"$T" run "$tmp/fin.lua" --schedule 6:drop --quiet >"$tmp/run6" 2>&1
[ $? -eq 1 ] || fail "tcpsim run: a failed invariant must fail the run (exit 1)"
grep -q "^FAIL $tmp/fin.lua:4: invariant 'B's FIN is never lost' failed at 4.000s: it returned false$" "$tmp/run6" ||
  { cat "$tmp/run6"; fail "tcpsim run: the FAIL line"; }
grep -q "^INVARIANT scenario failed: invariant 'B's FIN is never lost' failed at 4.000s" "$tmp/run6" ||
  fail "tcpsim run --schedule: the invariant line"
"$T" run "$tmp/fin.lua" --schedule 7:drop --quiet >/dev/null 2>&1 || fail "point 7 is A's ACK: must pass"

# Explore: reported first, in schedule order the first failure is
# 1:drop,7:drop (the lost SYN's retransmission moves B's FIN to point 7);
# shrinking finds the single fault at point 6.
"$T" explore "$tmp/fin.lua" --faults 2 --kinds drop,dup --emit-scenario "$tmp/emit" >"$tmp/x" 2>/dev/null
[ $? -eq 1 ] || fail "explore: a failed invariant must exit 1"
head -1 "$tmp/x" | grep -q "^invariant scenario: [0-9]* schedules fail$" || fail "explore: not reported first"
grep -q "^  first:  tcpsim run $tmp/fin.lua --schedule 1:drop,7:drop$" "$tmp/x" || fail "explore: the first failure"
grep -q "^  shrunk: tcpsim run $tmp/fin.lua --schedule 6:drop (1 fault)$" "$tmp/x" ||
  { grep shrunk "$tmp/x"; fail "explore: not shrunk to 6:drop"; }
grep -q "^  emitted: .*(fails the same way: same invariant, message and outcome)$" "$tmp/x" ||
  fail "explore: the emitted scenario"
"$T" run "$tmp/emit/fin-scenario.lua" -I "$tmp" --quiet >"$tmp/emitted" 2>&1
[ $? -eq 1 ] || fail "the emitted scenario must fail"
grep -q "INVARIANT scenario failed: invariant 'B's FIN is never lost' failed at 4.000s" "$tmp/emitted" ||
  fail "the emitted scenario fails another way"
tail -1 "$tmp/x" | grep -q " 0 invariant failures" && fail "explore: the summary counts no failure"

# A raising invariant and one that returns nothing fail too, with the
# reason; one that tries to act is refused (it may only look). A failing
# invariant before any fault: the scenario is not explored.
cat >"$tmp/kinds.lua" <<'LUA'
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
sim:invariant("raises", function() error("boom") end)
sim:invariant("no result", function() end)
sim:invariant("acts", function() client:close() return true end)
sim:run()
LUA
"$T" run "$tmp/kinds.lua" --quiet >"$tmp/kinds" 2>&1
[ $? -eq 1 ] || fail "failing invariants must fail the run"
grep -q "invariant 'raises' failed at .*: it raised: .*boom" "$tmp/kinds" || fail "a raising invariant"
grep -q "invariant 'no result' failed at .*: it returned nil" "$tmp/kinds" || fail "an invariant returning nothing"
grep -q "invariant 'acts' failed at .*: it raised: .*cannot be called while the stack is processing" "$tmp/kinds" ||
  { cat "$tmp/kinds"; fail "an invariant that acts"; }
[ "$(grep -c "invariant 'raises'" "$tmp/kinds")" -eq 1 ] || fail "a failed invariant is reported once"
"$T" explore "$tmp/kinds.lua" --faults 1 >"$tmp/kinds.x" 2>&1
[ $? -eq 1 ] || fail "explore: failing before any fault must exit 1"
grep -q "fails before any fault is applied" "$tmp/kinds.x" || fail "explore: not reported as failing before faults"

# Bad calls are clear errors.
for bad in 'sim:invariant("", function() return true end)' 'sim:invariant("x", 3)' \
           'sim:invariant("x", function() return true end) sim:invariant("x", function() return true end)'; do
  printf 'local sim = tcpsim.new {}\n%s\n' "$bad" >"$tmp/bad.lua"
  "$T" run "$tmp/bad.lua" --quiet >/dev/null 2>"$tmp/bad.err"
  [ $? -eq 2 ] || fail "a bad call must exit 2: $bad"
  grep -q "sim:invariant\|bad argument #2 to 'invariant'" "$tmp/bad.err" || { cat "$tmp/bad.err"; fail "message: $bad"; }
done
echo "explore invariant: ok"
