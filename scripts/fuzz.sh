#!/usr/bin/env bash
# Builds one libFuzzer target with clang (ASan + UBSan) and runs it for a
# number of seconds over a copy of its seed corpus; prints libFuzzer's
# closing figures. A finding leaves crash-* files in build/fuzz/TARGET/.
# An input may run up to 30 s: a net_ops input that reaches its 100,000
# events with a hook on every link runs 1-1.5 s under the sanitizers alone,
# and several times that on a loaded machine; a hang runs forever.
#   scripts/fuzz.sh net_ops 60     sim/net's C API as a sequence of operations
#   scripts/fuzz.sh input 60       bytes into a simulated host's TCP input
# FUZZ_SEED=N fixes libFuzzer's seed, so two runs from the same corpus try
# the same inputs in the same order (CI does: a red run is one that replays);
# without it each run draws its own.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh net_ops|input SECONDS}
secs=${2:?usage: scripts/fuzz.sh net_ops|input SECONDS}
case "$target" in
  net_ops) src=tests/fuzz/fuzz_net_ops.c seeds=tests/fuzz/corpus/net_ops max_len=512 ;;
  input) src=tests/stack/fuzz_input.c seeds=tests/stack/corpus/input max_len=4096 ;;
  *) echo "unknown target '$target' (net_ops or input)" >&2; exit 2 ;;
esac
out=build/fuzz/$target
mkdir -p "$out/corpus"
[ -n "$seeds" ] && cp -n "$seeds"/* "$out/corpus/" 2>/dev/null || true
clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -Isim/net -Isim/core -Isim/kern -Istack "$src" \
  sim/net/net_*.c sim/core/sim_*.c sim/kern/kern_*.c stack/tcp_*.c -o "$out/fuzz"
cd "$out"
seed=()
[ -n "${FUZZ_SEED:-}" ] && seed=(-seed="$FUZZ_SEED")
./fuzz "${seed[@]}" -max_len="$max_len" -timeout=30 -rss_limit_mb=2048 -max_total_time="$secs" \
  -print_final_stats=1 corpus 2>&1 | tail -25
