#!/usr/bin/env bash
# Same scenario + same seed = byte-identical trace; another seed differs
# (on a scenario whose links draw random numbers).
set -u
tcpsim=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
for f in scenarios/teardown/lost_final_ack.lua scenarios/robustness/lossy_transfer.lua; do
  "$tcpsim" run "$f" --quiet --trace json --trace-out "$tmp/a.jsonl" || { echo "run failed: $f"; fail=1; }
  "$tcpsim" run "$f" --quiet --trace json --trace-out "$tmp/b.jsonl" || { echo "run failed: $f"; fail=1; }
  if ! cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl"; then echo "not deterministic: $f"; fail=1; fi
  [ -s "$tmp/a.jsonl" ] || { echo "empty trace: $f"; fail=1; }
  echo "$f: $(wc -l < "$tmp/a.jsonl") records, identical on two runs"
done
f=scenarios/robustness/lossy_transfer.lua
"$tcpsim" run "$f" --quiet --seed 1 --trace json --trace-out "$tmp/s1.jsonl"
"$tcpsim" run "$f" --quiet --seed 2 --trace json --trace-out "$tmp/s2.jsonl"
if cmp -s "$tmp/s1.jsonl" "$tmp/s2.jsonl"; then echo "seeds 1 and 2 gave the same trace: $f"; fail=1; fi
exit $fail
