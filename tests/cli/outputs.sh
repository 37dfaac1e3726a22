#!/usr/bin/env bash
# The outputs open in their tools: tshark reads the pcap and pcapng with valid
# checksums and no malformed packets, dot renders the state diagram, the SVG
# is XML, the ladder is drawn.
set -u
tcpsim=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
f=scenarios/teardown/simultaneous_close.lua
out=$("$tcpsim" run "$f" --ladder --pcap "$tmp/a.pcap" --pcapng "$tmp/a.pcapng" \
      --svg "$tmp/a.svg" --state-diagram "$tmp/a.dot"); rc=$?
check "scenario passes with every output on" '[ $rc -eq 0 ]'
check "ladder shows both states of the crossing FINs" 'grep -q CLOSING <<<"$out"'
check "pcap written" '[ -s "$tmp/a.pcap" ]'
check "svg is an svg document" 'grep -q "<svg" "$tmp/a.svg" && grep -q "</svg>" "$tmp/a.svg"'
check "dot names the states" 'grep -q "TIME_WAIT\|TIME-WAIT" "$tmp/a.dot"'
if command -v tshark >/dev/null; then
  n=$(tshark -r "$tmp/a.pcap" 2>/dev/null | wc -l)
  check "tshark reads every packet ($n)" '[ "$n" -gt 0 ]'
  bad=$(tshark -r "$tmp/a.pcap" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
        -Y "_ws.malformed || ip.checksum.status == 0 || tcp.checksum.status == 0" 2>/dev/null | wc -l)
  check "no malformed packet, no bad checksum" '[ "$bad" -eq 0 ]'
  n2=$(tshark -r "$tmp/a.pcapng" 2>/dev/null | wc -l)
  check "tshark reads the pcapng" '[ "$n2" -eq "$n" ]'
  check "pcapng carries state comments" 'tshark -r "$tmp/a.pcapng" -T fields -e frame.comment 2>/dev/null | grep -q "CLOSING"'
else
  echo "SKIPPED: tshark checks (tshark not installed; scripts/setup.sh installs it)"
  fail=1
fi
if command -v dot >/dev/null; then
  check "dot renders the state diagram" 'dot -Tsvg "$tmp/a.dot" -o "$tmp/d.svg" && grep -q "<svg" "$tmp/d.svg"'
else
  echo "SKIPPED: dot not installed (scripts/setup.sh installs graphviz)"
  fail=1
fi
exit $fail
