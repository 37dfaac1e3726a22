#!/usr/bin/env bash
# Runs one scenario in four processes — two with address-space randomisation
# off (setarch -R), two with it on, one second apart so Lua's per-process
# string hash seed (drawn from addresses and the time) differs — and fails
# unless the four --trace json outputs are byte-identical.
#   tests/hostile/two_runs.sh TCPSIM FILE
set -u
tcpsim=$1 file=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
norand=()
if setarch "$(uname -m)" -R true 2>/dev/null; then norand=(setarch "$(uname -m)" -R); fi
fail=0
for i in 1 2 3 4; do
  if [ "$i" -le 2 ]; then pre=("${norand[@]}"); else pre=(); fi
  timeout 60 "${pre[@]}" "$tcpsim" run "$file" --quiet --max-wall 20s --trace json \
    --trace-out "$tmp/$i.jsonl" || { echo "run $i failed"; fail=1; }
  [ "$i" = 4 ] || sleep 1
done
[ -s "$tmp/1.jsonl" ] || { echo "run 1 wrote an empty trace"; fail=1; }
for i in 2 3 4; do
  cmp "$tmp/1.jsonl" "$tmp/$i.jsonl" || { echo "runs 1 and $i differ"; fail=1; }
done
echo "$file: $(wc -l <"$tmp/1.jsonl") records in each of 4 runs"
exit $fail
