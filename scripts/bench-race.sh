#!/usr/bin/env bash
# The race against ns-3 (run through `scripts/bench.sh race [options]`): the
# workload of bench/race/ for K = 1k, 10k, 100k and 1M pairs, 1 kB each, in C
# over sim/net (bench_race: no Lua, no run log) and as a scenario (race.lua:
# the tcpsim process, Lua and the run log). For each: CPU time (user + sys,
# measured from outside the process by bench/bench_time.c, to the
# microsecond), peak RSS, events, and CPU time and memory per connection,
# whole and over the same process at K = 1 (each side is first run with one
# pair: what a process costs before any pair, about 2 MB and a millisecond,
# which 1,000 pairs do not amortise). CPU time, not wall time: the figures
# stay comparable on a machine shared with other work.
#
# Options:
#   --ns3       also run ns-3 (../shared/bench/ns3, needs Debian's ns3 and
#               libns3-dev) and print the ratios; without ns-3 installed the
#               ratios are against the figures in ../shared/bench/ns3/RESULTS.md.
#   --plot F    write an SVG of CPU time and memory per connection against K.
#   --instr     instruction counts at K = 1,000 (valgrind callgrind).
#   --max K     largest K to run (default 1000000).
#   --bytes S   bytes per pair (default 1000).
#   --runs N    run bench_race N times at each K, each in a fresh process
#               (default 1): the row then shows the median CPU time and
#               peak RSS, and a line under it the best and median time a
#               pair of each phase (building, connecting and running,
#               freeing), from bench_race's CLOCK_PROCESS_CPUTIME_ID split
#               (user and system time, so the kernel's first touch of
#               pages is in it). The best is the run least disturbed by
#               the machine's other work; flatness is judged on it.
#   --warm      bench_race first runs a small race untimed (the code's
#               pages, the libraries' symbols), so K = 1,000's phases
#               are not charged for them (the row's CPU time, from
#               /usr/bin/time, still counts that race).
#   --prefault  bench_race touches its reserved heap before the clock
#               starts: the phases read the program's own work, without
#               the kernel zeroing fresh pages (its peak RSS is then the
#               touched range).
#   --only SIDE c or lua: run one side only.
set -euo pipefail
cd "$(dirname "$0")/.."
ns3=0 plot="" instr=0 max=1000000 bytes=1000 runs=1 only="" cflags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=${2:?--runs needs a count}; shift
      [[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh race: --runs needs a count of 1 or more" >&2; exit 2; } ;;
    --warm) cflags+=(--warm) ;;
    --prefault) cflags+=(--prefault) ;;
    --only) only=${2:?--only needs c or lua}; shift
      [[ "$only" = c || "$only" = lua ]] || { echo "bench.sh race: --only takes c or lua" >&2; exit 2; } ;;
    --ns3) ns3=1 ;;
    --plot) plot=${2:?--plot needs a file}; shift ;;
    --instr) instr=1 ;;
    --max) max=${2:?}; shift ;;
    --bytes) bytes=${2:?}; shift ;;
    *) echo "bench.sh race: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target tcpsim bench_race bench_time >/dev/null
timer=build/bench/bench_time
ns3dir=../shared/bench/ns3
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT

# ns-3's figures from RESULTS.md (K sweep, 1 kB per pair; process wall time,
# which equals its CPU time within 1 %: single-threaded), for when ns-3 is absent.
ns3_table() {
  case "$1" in
    1000) echo "1.02 89088" ;;
    10000) echo "11.82 736256" ;;
    100000) echo "235.30 7208960" ;;
    *) echo "" ;;
  esac
}

# Runs a command under bench_time; prints "cpu_s rss_kib events" and,
# for bench_race, its phases' ns a pair (building, running, freeing).
# Each run is held under 70 % of the machine's memory (ulimit -v): one
# that would need more fails instead of pushing the machine into swap.
measure() {
  local out
  out=$( (ulimit -v "$vlimit_kib"; "$timer" "$@") 2>&1) || { echo "$out" >&2; return 1; }
  local ev
  ev=$(echo "$out" | sed -n 's/.*events \([0-9]*\).*/\1/p' | head -1)
  local ph
  ph=$(echo "$out" | awk '/^phases/ {print $11, $15, $19}')
  echo "$out" | awk -v ev="${ev:-0}" -v ph="${ph:--}" '/^TIME/ {printf "%.6f %d %s %s\n", $2 + $3, $4, ev, ph}'
}

# The median of the numbers on standard input (the lower middle one of an
# even count) and the best (least): prints "best median".
best_median() {
  sort -g | awk '{v[NR] = $1} END {printf "%s %s\n", v[1], v[int((NR + 1) / 2)]}'
}

avail_kib=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
vlimit_kib=$(awk '/MemTotal/ {printf "%d", $2 * 0.7}' /proc/meminfo)
have_ns3=0
# ns-3's program is built into build/ns3/ (the shared folder stays as it is).
ns3bin=$PWD/build/ns3/tcp_bench
if [ "$ns3" = 1 ]; then
  if [ -d /usr/include/ns3 ] || [ -x "$ns3bin" ]; then
    have_ns3=1
  else
    echo "ns-3 is not installed (no /usr/include/ns3, no $ns3bin):"
    echo "ratios below are against the figures in $ns3dir/RESULTS.md, not measured here."
  fi
fi
if [ "$have_ns3" = 1 ] && [ ! -x "$ns3bin" ]; then BIN_DIR=$PWD/build/ns3 "$ns3dir/build.sh" >/dev/null; fi

# One side's run at K pairs: prints "cpu_s rss_kib events [phases]".
run_side() { # side, K
  if [ "$1" = c ]; then
    measure build/bench/bench_race "${cflags[@]}" "$2" "$bytes"
  else
    # The scenario's own memory limit (2 GiB by default) raised to the
    # ulimit that holds every run here.
    K=$2 S=$bytes measure build/tcpsim run bench/race/race.lua --unsafe --quiet \
      --max-events 1000000000 --max-instructions 100000000000 --max-memory "${vlimit_kib}KiB"
  fi
}

# What a process costs before its pairs: each side once with one pair.
declare -A base_cpu base_rss
for side in c lua; do
  [ -z "$only" ] || [ "$side" = "$only" ] || continue
  read -r base_cpu[$side] base_rss[$side] _ <<<"$(run_side "$side" 1)"
  awk -v s="$side" -v c="${base_cpu[$side]}" -v m="${base_rss[$side]}" 'BEGIN {
    printf "%s at K = 1: %.3f s of CPU, %.1f MiB (subtracted in the \"over K = 1\" columns)\n", s, c, m / 1024 }'
done

printf '%-8s %-6s %9s %10s %10s %9s %9s %11s %11s\n' K side "cpu (s)" "RSS (MiB)" events "us/conn" "KiB/conn" \
  "us/conn-1" "KiB/conn-1"
declare -A last_per_conn=([c]=0 [lua]=0)
for k in 1000 10000 100000 1000000; do
  [ "$k" -le "$max" ] || break
  for side in c lua; do
    [ -z "$only" ] || [ "$side" = "$only" ] || continue
    # Skip what would not fit: this side's last memory per pair times K,
    # with half again as margin, against what is free and the ulimit.
    per=${last_per_conn[$side]}
    need=$((per * k * 3 / 2))
    room=$((avail_kib < vlimit_kib ? avail_kib : vlimit_kib))
    if [ "$per" -gt 0 ] && [ "$need" -gt "$room" ]; then
      echo "K=$k $side skipped: at $per KiB per pair it needs about $((need / 1048576)) GiB, $((room / 1048576)) GiB allowed"
      continue
    fi
    if [ "$side" = c ]; then
      runs_out=$(mktemp)
      for ((i = 0; i < runs; i++)); do
        run_side c "$k" >>"$runs_out"
      done
      cpu=$(awk '{print $1}' "$runs_out" | best_median | awk '{print $2}')
      rss=$(awk '{print $2}' "$runs_out" | best_median | awk '{print $2}')
      ev=$(awk 'NR == 1 {print $3}' "$runs_out")
      phases=""
      for col in 4 5 6; do
        phases="$phases $(awk -v c=$col '{print $c}' "$runs_out" | best_median)"
      done
      rm -f "$runs_out"
    else
      read -r cpu rss ev _ <<<"$(run_side lua "$k")"
    fi
    echo "$k $side $cpu $rss $ev" >>"$rows"
    awk -v k="$k" -v s="$side" -v c="$cpu" -v m="$rss" -v e="$ev" -v bc="${base_cpu[$side]}" \
      -v bm="${base_rss[$side]}" 'BEGIN {
      printf "%-8d %-6s %9.3f %10.1f %10d %9.2f %9.2f %11.2f %11.2f\n", k, s, c, m / 1024, e,
        c * 1e6 / k, m / k, (c - bc) * 1e6 / (k - 1), (m - bm) / (k - 1) }'
    if [ "$side" = c ] && [ "$runs" -gt 1 ]; then
      read -r bb bm rb rm fb fm <<<"$phases"
      awk -v k="$k" -v n="$runs" -v bb="$bb" -v bm="$bm" -v rb="$rb" -v rm="$rm" -v fb="$fb" -v fm="$fm" 'BEGIN {
        printf "%-8d c phases, us a pair, best / median of %d runs: building %.2f / %.2f, running %.2f / %.2f, freeing %.2f / %.2f\n",
          k, n, bb / 1e3, bm / 1e3, rb / 1e3, rm / 1e3, fb / 1e3, fm / 1e3 }'
    fi
    last_per_conn[$side]=$(((rss + k - 1) / k))
  done
  ns=""
  if [ "$have_ns3" = 1 ]; then
    out=$( (ulimit -v "$vlimit_kib"; "$timer" "$ns3bin" --noTrace --pairs="$k" --bytes="$bytes" --loss=0 --seed=1) 2>&1)
    ns=$(echo "$out" | awk '/^TIME/ {printf "%.2f %d", $2 + $3, $4}')
    label="ns-3 (measured)"
  elif [ "$ns3" = 1 ] && [ "$bytes" = 1000 ]; then
    ns=$(ns3_table "$k")
    label="ns-3 (RESULTS.md)"
  fi
  if [ -n "$ns" ]; then
    read -r ncpu nrss <<<"$ns"
    echo "$k ns3 $ncpu $nrss 0" >>"$rows"
    awk -v k="$k" -v c="$ncpu" -v m="$nrss" -v l="$label" 'BEGIN {
      printf "%-8d %-6s %9.3f %10.1f %10s %9.2f %9.2f %11s %11s  %s\n", k, "ns-3", c, m / 1024, "-", c * 1e6 / k, m / k, "-", "-", l }'
    for side in c lua; do
      awk -v k="$k" -v s="$side" -v nc="$ncpu" -v nm="$nrss" -v l="$label" '
        $1 == k && $2 == s { printf "%-8d ratio %s / tcpsim %s: %.1fx the time, %.1fx the memory\n", k, l, s, nc / ($3 > 0 ? $3 : 0.01), nm / $4 }' "$rows"
    done
  fi
done

if [ "$instr" = 1 ]; then
  command -v valgrind >/dev/null || { echo "--instr: valgrind is not installed" >&2; exit 2; }
  for side in c lua; do
    f=$(mktemp)
    if [ "$side" = c ]; then
      valgrind --tool=callgrind --callgrind-out-file="$f" build/bench/bench_race 1000 "$bytes" >/dev/null 2>"$f.err"
    else
      K=1000 S=$bytes valgrind --tool=callgrind --callgrind-out-file="$f" build/tcpsim run bench/race/race.lua --unsafe --quiet >/dev/null 2>"$f.err"
    fi
    awk -v s="$side" '/refs:/ {gsub(",", "", $4); printf "K=1000 %s: %s instructions, %.0f per connection\n", s, $4, $4 / 1000}' "$f.err"
    rm -f "$f" "$f.err"
  done
fi

if [ -n "$plot" ]; then
  scripts/bench-plot.sh "$rows" >"$plot"
  echo "wrote $plot"
fi
