#!/usr/bin/env bash
# Without --pcap or --pcapng the run log keeps no payload bytes
# (rlog_set_payload); every other output of every scenario must then be
# byte-identical to the goldens, which were written with the payload kept.
set -u
tcpsim=$1
manifest=tests/golden/outputs.sha256
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
fail=0
for f in $(find scenarios -name '*.lua' -not -path '*/lib/*' | LC_ALL=C sort); do
  b=$(echo "${f#scenarios/}" | sed 's|/|_|g; s|\.lua$||')
  "$tcpsim" run "$f" --quiet --sim 1 --trace json --trace-out "$out/$b.jsonl" \
    --svg "$out/$b.svg" --state-diagram "$out/$b.dot" \
    --html "$out/$b.html" --ladder >"$out/$b.ladder" 2>/dev/null
  [ $? -le 1 ] || { echo "payload: $f did not run"; fail=1; }
done
(cd "$out" && LC_ALL=C sha256sum -- *) >"$out/.now"
grep -v -E '\.pcap(ng)?$' "$manifest" >"$out/.want"
n=$(wc -l <"$out/.want")
[ "$n" -gt 0 ] || { echo "payload: no goldens to compare with"; exit 1; }
if ! diff -u "$out/.want" "$out/.now" >"$out/.diff"; then
  echo "payload: outputs without payload differ from the goldens:"
  grep '^[-+][0-9a-f]' "$out/.diff" | head -20
  fail=1
else
  echo "payload: $n outputs identical to the goldens without payload bytes kept"
fi
exit $fail
