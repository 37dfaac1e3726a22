#!/usr/bin/env bash
# The lecturer's options of tcpsim run, checked on real runs: the ladder
# never passes its width, --relative-seq numbers from each side's ISN (the
# SYN is seq=0, as Wireshark shows), the TIME_WAIT restart of the lost final
# ACK (RFC 9293 §3.10.7.4) is in the ladder, the SVG and the pcapng, and
# --help documents each option.
set -u
tcpsim=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
# The longest line of a ladder (the verdict line of a scenario that checks
# nothing is not part of it).
longest() { awk '!/^FAIL: / { if (length($0) > m) m = length($0) } END { print m + 0 }' "$1"; }

# Every scenario's ladder at 80 columns (the default) and at 60.
over=0; n=0
for f in $(find scenarios tests/browser -name '*.lua' -not -path '*/lib/*' | LC_ALL=C sort); do
  n=$((n + 1))
  "$tcpsim" run "$f" --ladder --quiet --sim 1 --svg "$tmp/svg$n.svg" >/dev/null 2>&1
  "$tcpsim" run "$f" --ladder --quiet >"$tmp/l80" 2>/dev/null
  "$tcpsim" run "$f" --ladder --quiet --width 60 >"$tmp/l60" 2>/dev/null
  w80=$(longest "$tmp/l80"); w60=$(longest "$tmp/l60")
  if [ "$w80" -gt 80 ] || [ "$w60" -gt 60 ]; then echo "  $f: $w80 / $w60 columns"; over=1; fi
done
check "every ladder of $n scenarios fits 80 and 60 columns" '[ $over -eq 0 ] && [ $n -gt 40 ]'
# No two labels of an SVG ladder overlap (where segments cross, too): each
# text's box from its x, anchor and length in the monospace font (0.6 em a
# character), over every scenario's SVG.
overlaps=$(python3 - "$tmp"/svg*.svg <<'PY'
import html, re, sys
found = []
for path in sys.argv[1:]:
    s = open(path, encoding="utf-8").read()
    size = float(re.search(r'font-size="(\d+)"', s).group(1))
    boxes = []
    for m in re.finditer(r'<text x="(-?\d+)" y="(-?\d+)"(?: text-anchor="(\w+)")?[^>]*>([^<]*)</text>', s):
        x, y, anchor, text = int(m[1]), int(m[2]), m[3] or "start", html.unescape(m[4])
        w = len(text) * size * 0.6
        x0 = x if anchor == "start" else x - w if anchor == "end" else x - w / 2
        for b in boxes:
            if x0 < b[1] - 1 and b[0] < x0 + w - 1 and y - size * 0.8 < b[3] - 1 and b[2] < y + size * 0.2 - 1:
                found.append(f"{text!r} / {b[4]!r}")
        boxes.append((x0, x0 + w, y - size * 0.8, y + size * 0.2, text))
    if not boxes:
        found.append(path + ": no labels")
print("; ".join(found[:5]))
PY
)
check "no two labels overlap in the SVG of $n scenarios${overlaps:+: $overlaps}" '[ -z "$overlaps" ]'

f=scenarios/handshake/normal_open.lua
"$tcpsim" run "$f" --ladder --quiet --relative-seq --svg "$tmp/rel.svg" >"$tmp/rel.txt"
check "--relative-seq says so first" 'head -1 "$tmp/rel.txt" | grep -q "^seq and ack are relative to each side.s ISN"'
check "--relative-seq: the SYN is seq=0" 'grep -q "| SYN seq=0 " "$tmp/rel.txt"'
check "--relative-seq: the SYN,ACK is seq=0 ack=1" 'grep -q "SYN,ACK seq=0 ack=1 |" "$tmp/rel.txt"'
check "--relative-seq in the SVG" 'grep -q ">SYN,ACK seq=0 ack=1<" "$tmp/rel.svg"'
"$tcpsim" run "$f" --ladder --quiet >"$tmp/abs.txt"
check "without it, absolute numbers" '! grep -q "SYN seq=0 " "$tmp/abs.txt"'

f=scenarios/teardown/lost_final_ack.lua
"$tcpsim" run "$f" --ladder --quiet --sim 1 --svg "$tmp/tw.svg" --pcapng "$tmp/tw.pcapng" >"$tmp/tw.txt"
check "ladder: the repeated FIN restarts TIME_WAIT" \
  'grep -A1 "TIME_WAIT restarted: 2\*MSL from now" "$tmp/tw.txt" | tail -1 | grep -q "ACK seq="'
check "svg: the restart" 'grep -q ">TIME_WAIT restarted: 2\*MSL from now<" "$tmp/tw.svg"'
if command -v tshark >/dev/null; then
  check "pcapng: the restart comments the repeated FIN" \
    'tshark -r "$tmp/tw.pcapng" -T fields -e tcp.flags.fin -e frame.comment 2>/dev/null | grep -q "^1.*TIME_WAIT restarted"'
else
  echo "FAILED: tshark not installed (scripts/setup.sh installs it)"; fail=1
fi

f=scenarios/teardown/lost_final_ack.lua
"$tcpsim" run "$f" --quiet --sim 1 --state-diagram "$tmp/b2.dot" --endpoint 'B#2'
check "--endpoint B#2: one cluster, B's socket 2" \
  '[ "$(grep -c "subgraph cluster_" "$tmp/b2.dot")" -eq 1 ] && grep -q "label=\"B socket 2 " "$tmp/b2.dot"'
check "--endpoint B#2: its TIME_WAIT restart is a loop" 'grep -q "e0_TIME_WAIT -> e0_TIME_WAIT" "$tmp/b2.dot"'
err=$("$tcpsim" run "$f" --quiet --sim 1 --state-diagram "$tmp/c.dot" --endpoint C 2>&1); rc=$?
check "--endpoint C: exit 2 naming the endpoints there are" \
  '[ $rc -eq 2 ] && grep -q "no such endpoint; this run has B#1, A#1, B#2" <<<"$err"'
"$tcpsim" run "$f" --quiet --sim 1 --svg "$tmp/slide.svg" --svg-style slides
check "--svg-style slides: 16:9, a title naming scenario and profile" \
  'grep -q "width=\"1920\" height=\"1080\"" "$tmp/slide.svg" && grep -q "lost_final_ack.lua — profile rfc9293, seed 7</text>" "$tmp/slide.svg"'
"$tcpsim" run "$f" --quiet --sim 1 --svg "$tmp/slide.svg" --svg-style huge 2>/dev/null; rc=$?
check "--svg-style huge is refused" '[ $rc -eq 2 ]'

# Slides of a part of a run: --svg-window keeps a time window, --svg-control
# the SYN, FIN and RST segments only; the whole SVG is the reference.
f=scenarios/teardown/lost_final_ack.lua
"$tcpsim" run "$f" --quiet --sim 1 --svg "$tmp/all.svg"
"$tcpsim" run "$f" --quiet --sim 1 --svg "$tmp/open.svg" --svg-window 0-200
"$tcpsim" run "$f" --quiet --sim 1 --svg "$tmp/end.svg" --svg-window 2000-3000
check "--svg-window 0-200: the handshake, not the TIME_WAIT restart (2.25 s)" \
  'grep -q ">SYN seq=" "$tmp/open.svg" && ! grep -q "TIME_WAIT restarted" "$tmp/open.svg" && grep -q "TIME_WAIT restarted" "$tmp/all.svg"'
check "--svg-window 2000-3000: the restart, not the handshake" \
  'grep -q "TIME_WAIT restarted" "$tmp/end.svg" && ! grep -q ">SYN seq=" "$tmp/end.svg"'
"$tcpsim" run "$f" --quiet --sim 1 --svg "$tmp/bad.svg" --svg-window 300-200 2>/dev/null; rc=$?
check "--svg-window 300-200 is refused" '[ $rc -eq 2 ]'
f=scenarios/teardown/fin_overtakes_data.lua
"$tcpsim" run "$f" --quiet --sim 1 --svg "$tmp/data.svg"
"$tcpsim" run "$f" --quiet --sim 1 --svg "$tmp/ctl.svg" --svg-control
ctl() { grep -o ">[A-Z,]* seq=" "$1" | grep -cE "SYN|FIN|RST"; }
check "--svg-control: no segment without SYN, FIN or RST, every one with them" \
  'grep -q ">ACK seq=" "$tmp/data.svg" && ! grep -q ">ACK seq=" "$tmp/ctl.svg" && ! grep -q ">PSH,ACK seq=" "$tmp/ctl.svg" && [ "$(ctl "$tmp/ctl.svg")" -eq "$(ctl "$tmp/data.svg")" ] && [ "$(ctl "$tmp/ctl.svg")" -gt 0 ]'

# --pcap-at: B's ACK of A's FIN is lost on the way (fault): B's capture has
# it, A's does not; the links' capture (the default) has every send.
if command -v tshark >/dev/null; then
  f=scenarios/teardown/lost_final_ack.lua
  "$tcpsim" run "$f" --quiet --sim 1 --pcap "$tmp/links.pcap"
  for h in A B; do "$tcpsim" run "$f" --quiet --sim 1 --pcapng "$tmp/$h.pcapng" --pcap-at $h; done
  frames() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }
  lost='ip.src==10.0.0.2 && tcp.flags==0x010 && frame.time_epoch > 1.2 && frame.time_epoch < 1.3'
  check "--pcap-at B: the lost ACK is in the sender's capture" '[ "$(frames "$tmp/B.pcapng" "$lost")" -eq 1 ]'
  check "--pcap-at A: not in the receiver's" '[ "$(frames "$tmp/A.pcapng" "$lost")" -eq 0 ]'
  check "--pcap-at A: one frame fewer than B" \
    '[ "$(frames "$tmp/A.pcapng" "")" -eq $(( $(frames "$tmp/B.pcapng" "") - 1 )) ]'
  fin='tcp.flags.fin==1 && ip.src==10.0.0.1 && frame.time_epoch > 2'
  check "--pcap-at: A's repeated FIN leaves A at 2.2 s and reaches B at 2.25 s" \
    'tshark -r "$tmp/A.pcapng" -Y "$fin" -T fields -e frame.time_epoch 2>/dev/null | grep -qx "2.200000000" &&
     tshark -r "$tmp/B.pcapng" -Y "$fin" -T fields -e frame.time_epoch 2>/dev/null | grep -qx "2.250000000"'
  err=$("$tcpsim" run "$f" --quiet --sim 1 --pcap "$tmp/z.pcap" --pcap-at Z 2>&1); rc=$?
  check "--pcap-at Z: exit 2 naming the hosts" '[ $rc -eq 2 ] && grep -q "no such host; the hosts are A, B" <<<"$err"'
fi

# A segment the stack did not take in says what became of it: the repeated
# SYN of lost_synack.lua is answered with the SYN,ACK again (RFC 9293
# §3.10.7.4's first step in SYN-RECEIVED, as Linux and BSD do), not "dropped".
f=scenarios/handshake/lost_synack.lua
"$tcpsim" run "$f" --quiet --sim 1 --ladder --svg "$tmp/ls.svg" >"$tmp/ls.txt"
check "ladder: the repeated SYN is answered, not dropped" \
  'grep -q "retransmitted SYN: answered with SYN,ACK" "$tmp/ls.txt" && ! grep -q "dropped: retransmitted SYN" "$tmp/ls.txt"'
check "svg: the same" 'grep -q ">retransmitted SYN: answered with SYN,ACK<" "$tmp/ls.svg"'

# The widest line in characters (a rule's § is one column, two bytes).
columns() { python3 -c 'import sys; print(max(len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")))' "$1"; }
# --why: the text trace ends each state change and TIME_WAIT restart with
# the JSON trace's rule and because, in the same order; under the ladder
# the list numbers each of them, within 80 columns.
f=scenarios/teardown/lost_final_ack.lua
"$tcpsim" run "$f" --quiet --sim 1 --trace json >"$tmp/w.jsonl"
"$tcpsim" run "$f" --quiet --sim 1 --trace text --why >"$tmp/w.txt"
"$tcpsim" run "$f" --quiet --sim 1 --ladder --why >"$tmp/wl.txt"
json_why=$(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "rule" in r: print(r["rule"] + " / " + r["because"])' "$tmp/w.jsonl")
text_why=$(sed -nE 's/.* rule="([^"]*)" because="([^"]*)"$/\1 \/ \2/p' "$tmp/w.txt")
n=$(grep -c . <<<"$json_why")
check "--why on the text trace: the JSON trace's $n rules and becauses, in order" \
  '[ "$n" -gt 5 ] && [ "$json_why" = "$text_why" ] && grep -q "restart TIME_WAIT.* rule=\"RFC 9293 §3.10.7.4, eighth step" "$tmp/w.txt"'
check "--ladder --why: the list numbers all $n, within 80 columns" \
  'grep -q "^ *$n\. " "$tmp/wl.txt" && ! grep -q "^ *$((n + 1))\. " "$tmp/wl.txt" && [ "$(columns "$tmp/wl.txt")" -le 80 ]'
check "--ladder --why: the TIME_WAIT restart with its rule" \
  'grep -A1 "TIME_WAIT restarted (rcv FIN again)" "$tmp/wl.txt" | tail -1 | grep -q "RFC 9293 §3.10.7.4, eighth step"'

help=$("$tcpsim" run --help)
for opt in --relative-seq --width --endpoint --svg-style --pcap-at --svg-window --svg-control --why; do
  check "run --help documents $opt" 'grep -q -- "$opt" <<<"$help"'
done
exit $fail
