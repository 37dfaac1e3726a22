#!/usr/bin/env bash
# Without an output (no --trace, --pcap, --svg, --ladder ... and no --check)
# the run log keeps no connection entries (rlog_set_conns): the scenario's
# link queries (link:segments, link:last, link.exchange, expect(link)) read
# only packet entries. Every scenario and the link-query scripts must then
# print the same report, the same failures and exit alike with the full log
# (asked for here by a trace written to a file) and without it.
set -u
tcpsim=$1
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
fail=0 n=0
for f in $(find scenarios -name '*.lua' -not -path '*/lib/*' | LC_ALL=C sort) \
  tests/lua/scripts/*.lua; do
  "$tcpsim" run "$f" >"$out/lean" 2>&1
  lean=$?
  "$tcpsim" run "$f" --trace text --trace-out "$out/trace" >"$out/full" 2>&1
  full=$?
  if [ "$lean" != "$full" ] || ! cmp -s "$out/lean" "$out/full"; then
    echo "conns: $f: exit $lean without outputs, $full with a trace"
    diff "$out/full" "$out/lean" | head -10
    fail=1
  fi
  [ "$lean" -le 1 ] || { echo "conns: $f did not run"; fail=1; }
  n=$((n + 1))
done
[ "$n" -gt 40 ] || { echo "conns: only $n scripts found"; fail=1; }
[ $fail -ne 0 ] || echo "conns: $n scripts report alike with and without connection entries"
exit $fail
