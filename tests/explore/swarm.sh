#!/usr/bin/env bash
# tcpsim swarm end to end: a planted invariant found, shrunk to the one
# knob it needs and emitted as a scenario that fails the same way; the
# faults the rates draw shrunk as a schedule; the same report bytes for
# --jobs 1, --jobs 2 and merged shards; bad usage exits 2 with a message.
# Usage: swarm.sh TCPSIM
set -u
T=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The planted invariant fails once 3 of A's data segments are lost: only
# loss (a link knob) or fault_drop (a rate) can make it fail.
cat >"$tmp/lossy.lua" <<'LUA'
local sim = tcpsim.new { seed = 1, swarm = { loss = {0, 0.3}, mtu = false } }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
sim:invariant("fewer than 3 of A's data segments lost", function()
  local lost = 0
  for _, s in ipairs(link:segments { from = a }) do
    if s.dropped and s.len > 0 then lost = lost + 1 end
  end
  return lost < 3
end)
local server = b:listen(80, { autoread = true })
local client = a:connect(b, 80)
local peer = server:accept_wait()
client:send(string.rep("x", 20000))
sim:run_for "30s"
client:close()
sim:run_for "5s"
peer:close()
sim:run()
LUA
"$T" run "$tmp/lossy.lua" --schedule - --quiet >/dev/null 2>&1 || fail "the run with no knob must pass"

# Found, shrunk to loss alone (the file's range: every seed draws it), emitted.
"$T" swarm "$tmp/lossy.lua" --seeds 1..60 --fault-drop off --emit-scenario "$tmp/emit" >"$tmp/x" 2>"$tmp/x.err"
[ $? -eq 1 ] || { cat "$tmp/x" "$tmp/x.err"; fail "swarm: a failed invariant must exit 1"; }
head -1 "$tmp/x" | grep -q "^invariant scenario: [0-9]* runs fail$" || fail "swarm: not reported first"
first=$(sed -n 's/^  first:  //p' "$tmp/x")
shrunk=$(sed -n 's/^  shrunk: \(.*\) (.*/\1/p' "$tmp/x")
echo "$shrunk" | grep -q -- "--swarm loss=0\.[0-9]*$" || { cat "$tmp/x"; fail "swarm: not shrunk to loss alone: $shrunk"; }
for line in "$first" "$shrunk"; do
  ${line/tcpsim/$T} --quiet >"$tmp/replay" 2>&1
  [ $? -eq 1 ] || fail "the replay line does not fail: $line"
  grep -q "^INVARIANT scenario failed: invariant 'fewer than 3" "$tmp/replay" || fail "replay fails another way: $line"
done
grep -q "^  emitted: .*(fails the same way: same invariant, message and outcome)$" "$tmp/x" ||
  { cat "$tmp/x"; fail "swarm: the emitted scenario"; }
emitted=$(ls "$tmp"/emit/lossy-seed*-scenario.lua)
grep -q "^-- lossy-seed[0-9]*-scenario.lua: tcpsim swarm found that .* fails the invariant 'scenario'" "$emitted" ||
  fail "the emitted file's header names the invariant"
grep -q "^--   tcpsim run .*--seed [0-9]* --swarm loss=" "$emitted" || fail "the emitted file's header has the replay line"
grep -q '^local CHECK = { schedule = "-", settle = "1h" }$' "$emitted" || fail "the emitted file settles as swarm runs do"
grep -q '^local SWARM = { seed = [0-9]*, link = { loss = "0\.[0-9]*" } }$' "$emitted" || fail "the emitted file's seed and knobs"
"$T" run "$emitted" -I "$tmp" --quiet >"$tmp/emitted" 2>&1
[ $? -eq 1 ] || fail "the emitted scenario must fail"
grep -q "^INVARIANT scenario failed: invariant 'fewer than 3 of A's data segments lost'" "$tmp/emitted" ||
  fail "the emitted scenario fails another way"
tail -1 "$tmp/x" | grep -q "^60 runs, [0-9]* outcomes, [1-9][0-9]* invariant failures$" || fail "swarm: the summary line"

# The faults a rate drew: written as a schedule and shrunk with the
# explorer's shrinker to three drops of A's data, then emitted.
"$T" swarm "$tmp/lossy.lua" --seeds 1..30 --loss off --duplicate off --fault-drop 0.05..0.2 \
  --emit-scenario "$tmp/emit2" >"$tmp/y" 2>/dev/null
[ $? -eq 1 ] || fail "swarm over fault_drop: a failed invariant must exit 1"
grep -q "^  shrunk: .* --schedule [0-9]*:drop,[0-9]*:drop,[0-9]*:drop (.*, 3 faults in the schedule; " "$tmp/y" ||
  { cat "$tmp/y"; fail "swarm: the drawn faults not shrunk to a schedule of 3 drops"; }
grep -q "^  emitted: .*(fails the same way" "$tmp/y" || fail "swarm: the emitted schedule"

# Determinism: the same stdout for --jobs 1, --jobs 2 and merged shards.
"$T" swarm "$tmp/lossy.lua" --seeds 1..40 --no-shrink >"$tmp/j1" 2>/dev/null
"$T" swarm "$tmp/lossy.lua" --seeds 1..40 --no-shrink --jobs 2 >"$tmp/j2" 2>/dev/null
cmp -s "$tmp/j1" "$tmp/j2" || { diff "$tmp/j1" "$tmp/j2" | head; fail "--jobs 2 prints another report"; }
"$T" swarm "$tmp/lossy.lua" --seeds 1..40 --shard 1/3 --report-out "$tmp/p1" >/dev/null 2>&1
"$T" swarm "$tmp/lossy.lua" --seeds 1..40 --shard 2/3 --jobs 2 --report-out "$tmp/p2" >/dev/null 2>&1
"$T" swarm "$tmp/lossy.lua" --seeds 1..40 --shard 3/3 --report-out "$tmp/p3" >/dev/null 2>&1
"$T" swarm --merge "$tmp/p1" "$tmp/p2" "$tmp/p3" >"$tmp/merged" 2>/dev/null
[ $? -eq 1 ] || fail "--merge: failures must exit 1"
sed "s|$tmp/lossy.lua|FILE|g" "$tmp/j1" >"$tmp/j1.file"
cmp -s "$tmp/j1.file" "$tmp/merged" || { diff "$tmp/j1.file" "$tmp/merged" | head; fail "merged shards print another report"; }

# A library scenario, 40 seeds: no invariant fails.
"$T" swarm scenarios/teardown/active_close.lua --seeds 1..40 --jobs 2 >"$tmp/lib" 2>&1 ||
  { cat "$tmp/lib"; fail "active_close: swarm found a failure"; }

# Standard error: the ranges the runs draw from, the scenario's included
# (loss and mtu come from lossy.lua's swarm option), with the command
# line's over them; printed once, after the shard's first seed, whatever
# --jobs. Progress: one line per run with TCPSIM_SWARM_PROGRESS=0.
"$T" swarm "$tmp/lossy.lua" --seeds 1..12 --no-shrink --delay 2ms..4ms --jobs 2 >/dev/null 2>"$tmp/r.err"
[ "$(grep -c "^swarm: ranges " "$tmp/r.err")" -eq 1 ] || { cat "$tmp/r.err"; fail "the ranges: printed once"; }
grep -q "^swarm: ranges (.*; as seed 1 found them):$" "$tmp/r.err" || fail "the ranges: the seed they came from"
grep -q "^  loss  *0\.\.0\.3 (every seed)$" "$tmp/r.err" || { cat "$tmp/r.err"; fail "the ranges: the scenario's loss"; }
grep -q "^  mtu  *off$" "$tmp/r.err" || fail "the ranges: the scenario's mtu off"
grep -q "^  delay  *2ms\.\.4ms (every seed)$" "$tmp/r.err" || fail "the ranges: the command line's delay"
grep -q "^  jitter  *0\.\.20ms (default: half the seeds)$" "$tmp/r.err" || fail "the ranges: a default"
"$T" swarm "$tmp/lossy.lua" --seeds 1..12 --no-shrink --loss 0.1..0.2 --shard 2/3 >/dev/null 2>"$tmp/r.err"
grep -q "^swarm: ranges (.*; as seed 2 found them):$" "$tmp/r.err" || { cat "$tmp/r.err"; fail "the ranges: shard 2's first seed"; }
grep -q "^  loss  *0\.1\.\.0\.2 (every seed)$" "$tmp/r.err" || fail "the ranges: the command line over the scenario"

TCPSIM_SWARM_PROGRESS=0 "$T" swarm "$tmp/lossy.lua" --seeds 1..12 --no-shrink >"$tmp/p.out" 2>"$tmp/p.err"
[ $? -eq 1 ] || fail "progress: the run must find lossy.lua's failures"
grep "^swarm: [0-9]* of " "$tmp/p.err" >"$tmp/p.lines"
[ "$(wc -l <"$tmp/p.lines")" -eq 12 ] || { cat "$tmp/p.err"; fail "progress: one line per run"; }
failed=$(sed -n 's/^FAIL .* --seed \([0-9]*\) .*/\1/p' "$tmp/p.out")
[ -n "$failed" ] || fail "progress: no failing seed in the report"
k=0
while IFS= read -r line; do
  k=$((k + 1))
  f=0
  for s in $failed; do [ "$s" -le "$k" ] && f=$((f + 1)); done
  echo "$line" | grep -Eq "^swarm: $k of 12 runs, [0-9]+ runs/s, ETA [0-9]+ s, $f failures so far$" ||
    fail "progress line $k (want $f failures so far): $line"
done <"$tmp/p.lines"
tail -1 "$tmp/p.lines" | grep -q " ETA 0 s, " || fail "progress: the last line's ETA"
"$T" swarm "$tmp/lossy.lua" --seeds 1..3 --no-shrink >/dev/null 2>"$tmp/p.err"
grep -q "^swarm: [0-9]* of " "$tmp/p.err" && fail "progress: shown before the default 3 s"
TCPSIM_SWARM_PROGRESS=soon "$T" swarm "$tmp/lossy.lua" --seeds 1..3 --no-shrink >/dev/null 2>"$tmp/p.err"
grep -q "TCPSIM_SWARM_PROGRESS=soon is not a number of seconds" "$tmp/p.err" || fail "progress: a bad value named"

# Bad usage: exit 2 and a message naming the mistake.
bad() {
  local want=$1; shift
  "$T" swarm "$@" >/dev/null 2>"$tmp/bad.err"
  [ $? -eq 2 ] || fail "must exit 2: swarm $*"
  grep -q -- "$want" "$tmp/bad.err" || { cat "$tmp/bad.err"; fail "message for: swarm $*"; }
}
bad "--seeds needs A..B" "$tmp/lossy.lua" --seeds 5..1
bad "--seeds needs A..B" "$tmp/lossy.lua" --seeds 0..9223372036854775808
bad "--seeds needs A..B" "$tmp/lossy.lua" --seeds 1..18446744073709551616
bad "--seeds needs A..B" "$tmp/lossy.lua" --seeds 7
bad "loss must be in \[0,1\], got 2" "$tmp/lossy.lua" --loss 0..2
bad "mtu must be bytes in \[68,65535\]" "$tmp/lossy.lua" --mtu 10..1500
bad "delay: the range '9ms..1ms' ends below its start" "$tmp/lossy.lua" --delay 9ms..1ms
bad "unknown option '--los'" "$tmp/lossy.lua" --los 0..1
bad "each run's seed comes from --seeds" "$tmp/lossy.lua" --seed 3
bad "swarm needs a scenario file" --seeds 1..3
bad "--jobs must be in \[1,64\]" "$tmp/lossy.lua" --jobs 0
printf 'local sim = tcpsim.new { swarm = { los = {0, 1} } }\nsim:host "A"\n' >"$tmp/badfile.lua"
bad "unknown knob 'los'" "$tmp/badfile.lua" --seeds 1..2
"$T" run "$tmp/badfile.lua" >/dev/null 2>"$tmp/bad.err"
[ $? -eq 2 ] && grep -q "unknown knob 'los'" "$tmp/bad.err" || fail "tcpsim run: a bad swarm option is an error"
"$T" run "$tmp/lossy.lua" --swarm loss=0..0.2 >/dev/null 2>"$tmp/bad.err"
[ $? -eq 2 ] && grep -q "a run takes one value" "$tmp/bad.err" || fail "tcpsim run --swarm: a range is refused"
echo "swarm: ok"
