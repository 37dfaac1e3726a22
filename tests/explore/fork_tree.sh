#!/usr/bin/env bash
# The fork tree (--fork-tree) against runs from scratch: byte-identical
# reports on library scenarios for --jobs 1 and 2 and merged shards, every
# kind of fault included; no process left once explore has returned, nor
# after an interrupt. Usage: fork_tree.sh TCPSIM
set -u
T=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

same() { # label, options...
  local label=$1
  shift
  "$T" explore "$@" >"$tmp/scratch" 2>/dev/null
  local a=$?
  "$T" explore "$@" --fork-tree >"$tmp/fork" 2>/dev/null
  local b=$?
  [ $a -eq $b ] || fail "$label: exit $a from scratch, $b with the fork tree"
  cmp -s "$tmp/scratch" "$tmp/fork" || { diff "$tmp/scratch" "$tmp/fork" | head; fail "$label: reports differ"; }
  grep -q "^[0-9]* schedules, " "$tmp/fork" || fail "$label: no summary"
}
for s in handshake/lost_syn handshake/normal_open teardown/lost_final_ack robustness/half_open; do
  f=scenarios/$s.lua
  same "$s jobs 1" "$f" --faults 2 --kinds drop,dup --jobs 1
  same "$s jobs 2" "$f" --faults 2 --kinds drop,dup --jobs 2
done
# A scenario's print() is not part of the report (it would come in another
# order in each way): explore runs print nothing.
{ cat scenarios/handshake/lost_syn.lua; echo 'print("printed by the scenario")'; } >"$tmp/printing.lua"
same "printing" "$tmp/printing.lua" --faults 2 --jobs 2
grep -q "printed by the scenario" "$tmp/scratch" "$tmp/fork" && fail "a scenario's print() reached the report"
same "lost_synack, all kinds" scenarios/handshake/lost_synack.lua --faults 2 --kinds drop,dup,delay,reorder --jobs 2
same "failures" scenarios/handshake/lost_synack.lua --faults 2 --kinds dup,delay,reorder --settle 1ms
for mode in "" --fork-tree; do
  for i in 1 2 3; do
    "$T" explore scenarios/teardown/lost_final_ack.lua --faults 2 --shard $i/3 --jobs 2 $mode \
      --report-out "$tmp/part$i$mode" >/dev/null 2>&1 || fail "shard $i $mode"
  done
  "$T" explore --merge "$tmp/part1$mode" "$tmp/part2$mode" "$tmp/part3$mode" >"$tmp/merged$mode" ||
    fail "merge $mode"
done
cmp -s "$tmp/merged" "$tmp/merged--fork-tree" || fail "merged shards differ between the two ways"

# An interrupt: the explorer gets SIGINT alone (not its process group);
# every process of the tree dies with it. (A background job of a script
# starts with SIGINT ignored: env puts back the default, as at a terminal.)
cp scenarios/robustness/half_open.lua "$tmp/interrupted.lua"
env --default-signal=INT "$T" explore "$tmp/interrupted.lua" -I scenarios/lib --faults 4 --kinds drop,dup,delay,reorder --jobs 2 \
  --fork-tree --max-schedules 100000000 \
  >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do
  [ "$(pgrep -c -f "$tmp/interrupted.lua")" -gt 3 ] && break
  sleep 0.1
done
[ "$(pgrep -c -f "$tmp/interrupted.lua")" -gt 3 ] || fail "the fork tree never grew past 3 processes"
kill -INT $pid
wait $pid 2>/dev/null
for _ in $(seq 50); do
  pgrep -f "$tmp/interrupted.lua" >/dev/null || break
  sleep 0.1
done
pgrep -a -f "$tmp/interrupted.lua" && fail "processes outlived the interrupted explorer"
echo "explore fork tree: ok"
