#!/usr/bin/env bash
# Prints the project's performance figures (a benchmark, not a test):
#  - the event core: timer hold steps at 100k and 1M pending vs a bare heap,
#    packets per second through a lossy link, bytes per host and link;
#  - a whole workload: 10,000 connections each moving 1 kB, twice: in C
#    over sim/net (bench/bench_net.c, no Lua, no run log), and as a scenario
#    (bench/pairs.lua: the tcpsim process, with Lua and the run log), wall
#    time, CPU time and peak memory of each.
# `scripts/bench.sh explore` runs only the explore figures (below).
# `scripts/bench.sh race [--ns3] [--plot FILE] [--instr] [--max K] [--runs N] ...` runs the
# race against ns-3 instead (scripts/bench-race.sh says what it prints).
set -euo pipefail
cd "$(dirname "$0")/.."
explore_rate() { # K, runs, extra options
  # The explorer's own figure (stderr): the CPU time, user + sys, of the
  # exploration after the fault-free run, of the explorer and of every
  # process it waited for (each process of the fork tree waits for its own,
  # so the whole tree is counted). Summed over the runs (the machine may be
  # shared: CPU time, not wall time, and the best run beside the mean).
  # /usr/bin/time adds the whole process: start-up, the fault-free run, the
  # report.
  local k=$1 runs=$2
  shift 2
  for _ in $(seq "$runs"); do
    { /usr/bin/time -f "process %U %S" build/tcpsim explore scenarios/teardown/active_close.lua \
      --faults "$k" --kinds drop,dup --jobs 1 "$@" >/dev/null; } 2>&1
  done | awk -v k="$k" -v runs="$runs" -v mode="${1:-from scratch}" '
    / schedules in / { n += $2; c = $9; cpu += c; r = (c > 0 ? $2 / c : 0); if (r > best) best = r; per = $2 }
    /^process / { whole += $2 + $3 }
    END { printf "K=%d %-12s %4d schedules x %2d runs: %7.0f schedules per CPU-second (best run %6.0f); whole process %5.1f ms of CPU per run\n",
                 k, mode, per, runs, (cpu > 0 ? n / cpu : 0), best, 1000 * whole / runs }'
}
explore_bench() {
  echo "== explore: handshake + teardown (scenarios/teardown/active_close.lua), K=2 and 3 over drop,dup, one job"
  # K=2 is 139 schedules, K=3 929; docs/explore.md keeps the measured rates.
  explore_rate 2 20
  explore_rate 3 5
  explore_rate 2 3 --fork-tree
  explore_rate 3 1 --fork-tree
}
if [ "${1:-}" = explore ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target tcpsim >/dev/null
  explore_bench
  exit 0
fi
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
explore_bench
