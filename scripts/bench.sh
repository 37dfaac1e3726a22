#!/usr/bin/env bash
# Prints the project's performance figures (a benchmark, not a test):
#  - the event core: timer hold steps at 100k and 1M pending vs a bare heap,
#    packets per second through a lossy link, bytes per host and link;
#  - a whole workload: 10,000 connections each moving 1 kB, twice: in C
#    over sim/net (bench/bench_net.c, no Lua, no run log), and as a scenario
#    (bench/pairs.lua: the tcpsim process, with Lua and the run log), wall
#    time, CPU time and peak memory of each.
# `scripts/bench.sh race [--ns3] [--plot FILE] [--instr] [--max K]` runs the
# race against ns-3 instead (scripts/bench-race.sh says what it prints).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = race ]; then
  shift
  exec scripts/bench-race.sh "$@"
fi
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target tcpsim bench >/dev/null
echo "== event core"
build/bench/bench_core
echo "== 10,000 connections x 1 kB in C over sim/net (bench/bench_net.c)"
build/bench/bench_net
echo "== 10,000 connections x 1 kB as a scenario (bench/pairs.lua)"
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "wall %e s  cpu %U s user + %S s sys  peak memory %M KiB" \
    build/tcpsim run bench/pairs.lua --quiet
else
  time build/tcpsim run bench/pairs.lua --quiet
fi
echo "== explore: handshake + teardown (scenarios/teardown/active_close.lua), K=2 over drop,dup, one core"
build/tcpsim explore scenarios/teardown/active_close.lua --faults 2 --kinds drop,dup --jobs 1 \
  2>&1 >/dev/null | grep -E "schedules in"
# K=2 is 139 schedules, over too soon to time well; K=3 (929 schedules) is
# the steadier figure. docs/explore.md keeps the measured rates.
build/tcpsim explore scenarios/teardown/active_close.lua --faults 3 --kinds drop,dup --jobs 1 \
  2>&1 >/dev/null | grep -E "schedules in"
