#!/usr/bin/env bash
# A raw peer (sim:raw_peer) facing the kernel host: its crafted segments go
# through its link to the TUN device and the kernel's answers come back to
# it, in real time. rst_challenge_ack.lua (the kernel's challenge ACK and
# its reset, with stats.challenge_acks read from the namespace's TcpExt
# TCPChallengeACK) and fixtures/challenge_ack_rate.lua (RFC 5961 §7: Linux
# answers one challenge per 500 ms, tcp_invalid_ratelimit) must agree on
# states and segments, the peer's segments and the kernel's counted
# together, with every expectation of both runs held. What a kernel run
# still cannot do is refused naming file:line, exit 3: a count Linux does
# not keep (stats.dup_acks_in), and a raw peer made after the namespace
# opened (its address would have no route). Also a kernel socket's
# retransmission count read after its descriptor closed
# (claims/time_wait_length.lua).
#   tests/kern/raw_peer.sh TCPSIM SOURCE_DIR WORK_DIR
set -u
tcpsim=$1 src=$2 work=$3
mkdir -p "$work"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
if [ "$(id -u)" != 0 ]; then echo "SKIPPED raw_peer: not root"; exit 77; fi
if [ ! -c /dev/net/tun ]; then echo "SKIPPED raw_peer: no TUN device (/dev/net/tun)"; exit 77; fi

run() { # name scenario
    "$tcpsim" kernel "$2" >"$work/$1.out" 2>"$work/$1.err" &
    echo $! >"$work/$1.pid"
    wait $!; echo $? >"$work/$1.rc"
}
check() { # name verdict-regex...
    local name=$1; shift
    local rc; rc=$(cat "$work/$name.rc")
    [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || { bad "$name: exit $rc: $(head -3 "$work/$name.err")"; return; }
    for want in "$@"; do
        grep -qE "$want" "$work/$name.out" || bad "$name: no line matching '$want'"
    done
    if ls /run/netns 2>/dev/null | grep -q "^tcpsim-k$(cat "$work/$name.pid")-"; then
        bad "$name: left its namespace behind"
    fi
    echo "ok: $name exit $rc: $(grep -E '^(states|segments|timing):' "$work/$name.out" | tr -s ' ' | paste -sd';')"
}

# Timing is shown but not required: the machine's load decides it.
run rst "$src/scenarios/robustness/rst_challenge_ack.lua"
check rst 'host A played by Linux' '^states: +agree +\(2 sockets\)' '^segments: +agree +\(6 segments\)' \
    '^timing: +(agree|DIFFER)' 'A +8080 +SYN_RECEIVED -> ESTABLISHED -> CLOSED$'
[ "$(grep -c '^expectations: 8 checked, 0 failed$' "$work/rst.out")" -eq 2 ] \
    || bad "rst: expected 8 expectations held in both runs: $(grep '^expectations' "$work/rst.out")"
# the ladder of the kernel run has the peer's column and the kernel's answer
sed -n '/^==== kernel run/,/^kernel run states/p' "$work/rst.out" >"$work/rst.ladder"
grep -q 'RST seq=101' "$work/rst.ladder" && grep -q 'ACK seq=1 ack=1' "$work/rst.ladder" \
    || bad "rst: the kernel run's ladder lacks the peer's RST or the kernel's challenge ACK"

run rate "$src/tests/kern/fixtures/challenge_ack_rate.lua"
check rate '^states: +agree +\(2 sockets\)' '^segments: +agree +\(8 segments\)' '^timing: +(agree|DIFFER)'
[ "$(grep -c '^expectations: 6 checked, 0 failed$' "$work/rate.out")" -eq 2 ] \
    || bad "rate: expected 6 expectations held in both runs: $(grep '^expectations' "$work/rate.out")"

# A kernel socket's counters outlive its descriptor where Linux keeps them:
# p6 (B, the kernel) closes, retransmits its FIN in LAST_ACK and ends, and
# its stats.retransmits, read after that, is the samples' tcpi_total_retrans.
run twl "$src/scenarios/claims/time_wait_length.lua"
check twl '^states: +agree' '^segments: +agree'
[ "$(grep -c '^expectations: 9 checked, 0 failed$' "$work/twl.out")" -eq 2 ] \
    || bad "twl: expected 9 expectations held in both runs: $(grep -A2 '^FAIL' "$work/twl.out" | head -6)"

# A state the simulation leaves at the instant it enters it cannot be
# sampled: A's FIN_WAIT_2, between the ACK of its FIN and the peer's FIN
# in one segment. The states still agree, and the report says what was
# not seen.
run otw "$src/scenarios/robustness/old_syn_in_time_wait.lua"
check otw '^states: +agree +\(3 sockets; 1 state the simulation left at the instant it entered it, such as FIN_WAIT_2, not sampled\)' \
    '^segments: +agree +\(10 segments\)' 'A +8080 +SYN_RECEIVED -> ESTABLISHED -> FIN_WAIT_1 -> TIME_WAIT -> CLOSED$'

# A namespace count of 0 is every socket's: syn_in_time_wait's kernel host
# has had two connections, and its stats.challenge_acks of 0 is read, not
# refused, and holds.
run siw "$src/scenarios/teardown/syn_in_time_wait.lua"
check siw '^states: +agree' '^segments: +agree'
line=$(grep -n 'peer.stats.challenge_acks):equals(0)' "$src/scenarios/teardown/syn_in_time_wait.lua" | cut -d: -f1)
grep -q "syn_in_time_wait.lua:$line:" "$work/siw.out" && bad "siw: stats.challenge_acks (line $line) failed in a run"

# Refusals that remain, with file:line and exit 3.
sed 's/expect(server.stats.challenge_acks):equals(2)/local n = server.stats.dup_acks_in/' \
    "$src/tests/kern/fixtures/challenge_ack_rate.lua" >"$work/dupacks.lua"
line=$(grep -n 'dup_acks_in' "$work/dupacks.lua" | cut -d: -f1)
"$tcpsim" kernel "$work/dupacks.lua" >/dev/null 2>"$work/dupacks.err"; rc=$?
[ $rc -eq 3 ] && grep -q "^tcpsim kernel: refused: .*dupacks.lua:$line: sock.stats.dup_acks_in: the kernel endpoint cannot read stats.dup_acks_in" "$work/dupacks.err" \
    || bad "stats refusal: exit $rc: $(cat "$work/dupacks.err")"
cat >"$work/late.lua" <<'LUA'
local sim = tcpsim.new { seed = 1 }
local a = sim:host "A"
local b = sim:host "B"
sim:link(a, b, { delay = "10ms" })
a:listen(8080)
local peer = sim:raw_peer(a, { delay = "10ms" })
LUA
"$tcpsim" kernel "$work/late.lua" --kernel-host A >/dev/null 2>"$work/late.err"; rc=$?
[ $rc -eq 3 ] && grep -q "^tcpsim kernel: refused: .*late.lua:6: sim:raw_peer: the kernel endpoint cannot face a raw peer made after its namespace opened" "$work/late.err" \
    || bad "late peer refusal: exit $rc: $(cat "$work/late.err")"

# SIGINT in the middle of a kernel run with a raw peer: the process dies of
# the signal (exit 130) and its namespace, which holds the TUN device and
# the peer's route, is gone; the simulation's run is not reported as a
# verdict. The peer's connection then stays idle for 30 s, so the signal
# lands while the kernel run is in progress.
cat >"$work/sigint.lua" <<'LUA'
local sim = tcpsim.new { seed = 1 }
local a = sim:host "A"
local peer = sim:raw_peer(a, { delay = "10ms" })
a:listen(8080)
peer:send "0.000 S 0:0(0) win 65535 <mss 1460>"
peer:expect "S. 0:0(0) ack 1 <...>"
peer:send ". 1:1(0) ack 1 win 65535"
peer:expect_none "30s"
LUA
# (a job started with & in a script ignores SIGINT unless its action is reset)
env --default-signal=INT "$tcpsim" kernel "$work/sigint.lua" --kernel-host A \
    >"$work/sigint.out" 2>"$work/sigint.err" &
pid=$!
for _ in $(seq 200); do # until the kernel run's namespace exists (at most 20 s)
    ls /run/netns 2>/dev/null | grep -q "^tcpsim-k$pid-" && break
    sleep 0.1
done
if ls /run/netns 2>/dev/null | grep -q "^tcpsim-k$pid-"; then
    sleep 0.5 # the peer's SYN and the kernel's SYN-ACK have crossed the TUN device
    kill -INT $pid
    wait $pid; rc=$?
    was=$fail fail=0
    [ $rc -eq 130 ] || bad "sigint: exit $rc, not 130 (died of SIGINT): $(head -3 "$work/sigint.err")"
    ls /run/netns 2>/dev/null | grep -q "^tcpsim-k$pid-" && bad "sigint: left its namespace behind"
    grep -qE '^(AGREE|DIFFER)' "$work/sigint.out" && bad "sigint: an interrupted run printed a verdict"
    [ $fail -eq 0 ] && echo "ok: sigint exit $rc, namespace removed"
    fail=$((was | fail))
else
    kill -KILL $pid 2>/dev/null; wait $pid
    bad "sigint: the kernel run's namespace never appeared: $(head -3 "$work/sigint.err")"
fi
exit $fail
