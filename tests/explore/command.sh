#!/usr/bin/env bash
# tcpsim explore end to end: the count it prints, the same report whatever
# the jobs and shards, the replay line, the limit, and a scenario that fails
# before any fault. Usage: command.sh TCPSIM
set -u
T=$1
S=scenarios/teardown/active_close.lua
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The count: K=1 over one kind is the root plus one schedule per point.
"$T" explore $S --faults 1 --kinds drop >"$tmp/k1" 2>"$tmp/k1.err" || fail "explore K=1 exit $?"
points=$(sed -n 's/.*fault-free run has \([0-9]*\) decision points.*/\1/p' "$tmp/k1.err")
[ -n "$points" ] || fail "no count printed before running"
grep -q "^$((points + 1)) schedules, " "$tmp/k1" || fail "K=1 drop is not $((points + 1)) schedules"

# The same report with --jobs 1, --jobs 2 and two merged shards.
"$T" explore $S --faults 2 --jobs 1 >"$tmp/j1" 2>/dev/null || fail "jobs 1"
"$T" explore $S --faults 2 --jobs 2 >"$tmp/j2" 2>/dev/null || fail "jobs 2"
cmp -s "$tmp/j1" "$tmp/j2" || fail "--jobs 2 differs from --jobs 1"
for i in 1 2; do
  "$T" explore $S --faults 2 --shard $i/2 --report-out "$tmp/part$i" >/dev/null 2>&1 || fail "shard $i"
done
"$T" explore --merge "$tmp/part1" "$tmp/part2" >"$tmp/merged" || fail "merge"
sed "s|$S|FILE|g" "$tmp/j1" >"$tmp/j1.named"
cmp -s "$tmp/j1.named" "$tmp/merged" || { diff "$tmp/j1.named" "$tmp/merged" | head; fail "merged shards differ"; }

# A replay line runs one schedule and says what it applied.
"$T" run $S --schedule 4:drop --quiet >"$tmp/replay"
grep -q "schedule 4:drop: 1 of 1 faults applied" "$tmp/replay" || fail "replay line"
"$T" run $S --schedule 3:smash >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad schedule must exit 2"

# Above the limit: refused, with how to narrow it.
"$T" explore $S --faults 2 --max-schedules 5 >/dev/null 2>"$tmp/limit"
[ $? -eq 2 ] || fail "above the limit must exit 2"
grep -q -- "--segments" "$tmp/limit" || fail "the refusal says how to narrow"

# A scenario failing without faults is reported, not explored.
cat >"$tmp/broken.lua" <<'LUA'
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
b:listen(80)
local c = a:connect(b, 80)
sim:run()
expect(c):state "SYN_SENT"
LUA
"$T" explore "$tmp/broken.lua" --faults 1 >"$tmp/broken.out" 2>&1
[ $? -eq 1 ] || fail "a scenario failing before faults must exit 1"
grep -q "fails before any fault" "$tmp/broken.out" || fail "not reported as failing before faults"
# A real run made to fail: with almost no time to settle, a lost SYN,ACK
# (point 2: SYN, SYN,ACK, ...) leaves B in SYN_RECEIVED. With the default
# settling time the same scenario passes. The shrinker keeps one fault.
cat >"$tmp/short.lua" <<'LUA'
local sim = tcpsim.new { seed = 1, msl = "100ms" }
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
sim:run_for "100ms"
local peer = server:accept()
client:close()
peer:close()
sim:run_for "3s"
LUA
"$T" explore "$tmp/short.lua" --faults 2 --kinds drop >"$tmp/settled" 2>/dev/null || fail "settled run"
"$T" explore "$tmp/short.lua" --faults 2 --kinds drop --settle 1ms >"$tmp/stuck" 2>/dev/null
[ $? -eq 1 ] || fail "a failed invariant must exit 1"
grep -q "^invariant stuck: " "$tmp/stuck" || fail "no stuck group"
grep -q "B:80 still in SYN_RECEIVED" "$tmp/stuck" || fail "the stuck message"
grep -q "shrunk: tcpsim run $tmp/short.lua --schedule 2:drop --settle 1ms (1 fault)" "$tmp/stuck" ||
  fail "shrunk schedule"
"$T" run "$tmp/short.lua" --schedule 2:drop --settle 1ms --quiet >"$tmp/replay2" 2>/dev/null
grep -q "INVARIANT stuck failed: B:80 still in SYN_RECEIVED" "$tmp/replay2" || fail "replay of the stuck run"
# An output that cannot be written is a usage failure (exit 2) even when the
# schedule's invariant failed too: the invariant's exit 1 must not hide it.
sed 's/^peer:close()/if peer then peer:close() end/' "$tmp/short.lua" >"$tmp/short2.lua"
"$T" run "$tmp/short2.lua" --schedule 4:drop,7:drop --settle 1ms --quiet \
  --pcap "$tmp/no/such/dir/x.pcap" >"$tmp/both.out" 2>"$tmp/both.err"
[ $? -eq 2 ] || fail "a failed output under a failed invariant must exit 2"
grep -q "^INVARIANT stuck failed: " "$tmp/both.out" || fail "the invariant still reported"
grep -q "cannot write pcap" "$tmp/both.err" || fail "the output failure reported"

# The schedule as a Lua option: tcpsim.new{schedule = S, settle = D} runs
# as --schedule S --settle D does; the command line's --schedule wins; a bad
# one is an error naming it; explore chooses its own schedules.
sed 's/tcpsim.new { seed = 1, msl = "100ms" }/tcpsim.new { seed = 1, msl = "100ms", schedule = "2:drop", settle = "1ms" }/' \
  "$tmp/short.lua" >"$tmp/carried.lua"
grep -q 'schedule = "2:drop"' "$tmp/carried.lua" || fail "the carried scenario was not made"
"$T" run "$tmp/carried.lua" --quiet >"$tmp/carried.out" 2>/dev/null
[ $? -ne 0 ] || fail "a carried failing schedule must fail the run"
grep -q "schedule 2:drop: 1 of 1 faults applied" "$tmp/carried.out" || fail "carried schedule not applied"
grep -q "INVARIANT stuck failed: B:80 still in SYN_RECEIVED" "$tmp/carried.out" || fail "carried settle"
"$T" run "$tmp/carried.lua" --schedule - --quiet >"$tmp/over.out" 2>/dev/null
grep -q "^schedule -: 0 of 0 faults" "$tmp/over.out" || fail "--schedule must win over the scenario's"
sed 's/schedule = "2:drop"/schedule = "2:smash"/' "$tmp/carried.lua" >"$tmp/bad.lua"
"$T" run "$tmp/bad.lua" --quiet >/dev/null 2>"$tmp/bad.err"
[ $? -eq 2 ] || fail "a bad carried schedule must exit 2"
grep -q "schedule '2:smash': '2:smash': the kind must be" "$tmp/bad.err" || fail "bad schedule message"
cat >"$tmp/second.lua" <<'LUA'
local one = tcpsim.new { seed = 1 }
local two = tcpsim.new { seed = 1, schedule = "1:drop" }
LUA
"$T" run "$tmp/second.lua" --quiet >/dev/null 2>"$tmp/second.err"
[ $? -eq 2 ] || fail "a schedule on the second simulation must exit 2"
grep -q "first simulation" "$tmp/second.err" || fail "second simulation message"
"$T" explore "$tmp/carried.lua" --faults 1 --kinds drop >"$tmp/carried.x" 2>/dev/null
[ $? -eq 0 ] || fail "explore must ignore the scenario's schedule and settle"

# --emit-scenario: the shrunk schedule of each failed invariant written as
# a plain scenario whose faults are link rules; run with no --schedule it
# fails the same invariant with the same message. The planted failure is
# the settling time of 1 ms (see short.lua above).
"$T" explore "$tmp/short.lua" --faults 2 --kinds drop --settle 1ms --emit-scenario "$tmp/emit" \
  >"$tmp/emit.out" 2>/dev/null
[ $? -eq 1 ] || fail "explore --emit-scenario must still exit 1 on a failure"
f="$tmp/emit/short-stuck.lua"
[ -f "$f" ] || fail "no emitted scenario"
grep -q "emitted: tcpsim run $f -I $tmp (fails the same way" "$tmp/emit.out" || fail "emitted line"
grep -q -- "^-- short-stuck.lua: tcpsim explore found that $tmp/short.lua fails the invariant 'stuck'" "$f" ||
  fail "the header names the invariant"
grep -q -- "^--   tcpsim run $tmp/short.lua --schedule 2:drop --settle 1ms$" "$f" || fail "the header's replay line"
grep -q 'fault = "drop", from = "B", flags = "SYN,ACK", len = 0, nth = 1' "$f" || fail "the fault as a rule"
grep -q -- "--schedule" <(grep -v '^--' "$f") && fail "the emitted scenario must not use --schedule"
"$T" run "$f" --quiet >"$tmp/emit.run" 2>/dev/null
[ $? -ne 0 ] || fail "the emitted scenario must fail"
grep -q "^INVARIANT stuck failed: B:80 still in SYN_RECEIVED after the run settled" "$tmp/emit.run" ||
  fail "the emitted scenario fails another way"
grep -q "^schedule -: 0 of 0 faults" "$tmp/emit.run" || fail "the emitted scenario must apply no schedule"
# Held segments (delay, reorder) and a library scenario with its own rules
# and modules: two faults, written as hold_next rules released by a hook.
"$T" explore scenarios/handshake/lost_synack.lua --faults 2 --kinds dup,delay,reorder --settle 1ms \
  --emit-scenario "$tmp/emit" >"$tmp/emit2.out" 2>/dev/null
f="$tmp/emit/lost_synack-stuck.lua"
grep -q "shrunk: .* (2 faults)" "$tmp/emit2.out" || fail "lost_synack: not two faults"
grep -q "emitted: tcpsim run $f .*(fails the same way" "$tmp/emit2.out" || fail "lost_synack: emitted line"
msg=$(sed -n 's/^--   \(.* after the run settled\)$/\1/p' "$f")
[ -n "$msg" ] || fail "lost_synack: no message in the header"
"$T" run "$f" -I scenarios/handshake -I scenarios/lib --quiet >"$tmp/emit2.run" 2>/dev/null
grep -qF "INVARIANT stuck failed: $msg" "$tmp/emit2.run" || fail "lost_synack: the emitted scenario fails another way"
# Every emitted scenario reproduces its schedule exactly, shrunk or not
# (--no-shrink emits the first failing schedule as found): the same
# invariant, message and outcome. These scenarios have rules of their own
# (lost_syn drops A's first SYN, so the explorer's SYN is A's second, and it
# calls sim.duration as a function); the kinds include held segments.
for c in "handshake/lost_syn 1..3 drop,dup" "handshake/lost_syn 2..6 drop,dup" \
         "handshake/lost_syn 3..8 delay,reorder" "teardown/fin_overtakes_data 4..12 drop,dup" \
         "teardown/fin_overtakes_data 3..8 delay,reorder" "teardown/lost_final_ack 1..3 drop,dup" \
         "handshake/lost_synack 1..4 delay,reorder" "teardown/syn_in_time_wait 2..6 drop,dup"; do
  set -- $c
  "$T" explore scenarios/$1.lua --faults 2 --kinds $3 --segments $2 --settle 1ms --no-shrink \
    --emit-scenario "$tmp/exact" >"$tmp/exact.out" 2>/dev/null
  grep -q "^  emitted: " "$tmp/exact.out" || fail "$c: nothing emitted"
  grep -q "^  shrunk: " "$tmp/exact.out" && fail "$c: --no-shrink shrank"
  grep "^  emitted: " "$tmp/exact.out" | grep -qv "(fails the same way: same invariant, message and outcome)" &&
    { grep "emitted:" "$tmp/exact.out"; fail "$c: an emitted scenario does not reproduce exactly"; }
done
set -- "$T"
echo "explore command: ok"
