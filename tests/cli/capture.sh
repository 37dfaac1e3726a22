#!/usr/bin/env bash
# --pcap-at's capture points on a three-host run (fixtures/capture_points.lua:
# B serves A and C over two links; B's first SYN,ACK to A is lost on the
# A-B link), and the default: one capture per host when there are more than
# two hosts (OUT.HOST.pcap), the links' sending ends with two. The files are
# read by a pcap reader written here from the libpcap format (24-byte
# header, 16-byte record headers) and, when tshark is installed, by tshark;
# what each should hold is taken from the text trace's send and deliver
# lines.
set -u
tcpsim=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
f=tests/cli/fixtures/capture_points.lua
run() { "$tcpsim" run "$f" --quiet "$@"; }

run --trace text --trace-out "$tmp/trace.txt" --pcap "$tmp/default.pcap" --pcapng "$tmp/default.pcapng"
for at in sender receiver A B C B:A B:C A:B; do
  run --pcap "$tmp/$at.pcap" --pcapng "$tmp/$at.pcapng" --pcap-at "$at" || { echo "FAILED: --pcap-at $at did not run"; fail=1; }
done

# "N SECONDS.NANOS SRC DST" per record of a classic pcap file (nanosecond magic, raw IPv4).
records() {
  python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
magic, = struct.unpack('<I', b[:4])
assert magic == 0xa1b23c4d, hex(magic)
assert struct.unpack('<I', b[20:24])[0] == 101  # LINKTYPE_RAW
o, n = 24, 0
while o < len(b):
    sec, ns, incl, orig = struct.unpack('<IIII', b[o:o + 16])
    ip = b[o + 16:o + 16 + incl]
    assert incl == orig and ip[0] >> 4 == 4
    n += 1
    print(n, '%d.%09d' % (sec, ns), '.'.join(map(str, ip[12:16])), '.'.join(map(str, ip[16:20])))
    o += 16 + incl
assert o == len(b)
PY
}
count() { records "$1" | wc -l; }
# The times of trace lines matching a pattern ("B>A send").
times() { grep -E " $1 pkt=" "$tmp/trace.txt" | awk '{print $1}' | sort; }

check "three hosts: the default writes one capture per host, no single file" \
  '[ ! -e "$tmp/default.pcap" ] && [ ! -e "$tmp/default.pcapng" ] && [ "$(cd "$tmp" && ls default.*)" = "$(printf "%s\n" default.A.pcap default.A.pcapng default.B.pcap default.B.pcapng default.C.pcap default.C.pcapng)" ]'
for h in A B C; do
  check "three hosts: default.$h.pcap and .pcapng are --pcap-at $h" \
    'cmp -s "$tmp/default.$h.pcap" "$tmp/$h.pcap" && cmp -s "$tmp/default.$h.pcapng" "$tmp/$h.pcapng"'
done
check "three hosts: the default names each file (stderr)" \
  '"$tcpsim" run "$f" --pcap "$tmp/n.pcap" 2>&1 >/dev/null | grep -q "one capture per host: $tmp/n.A.pcap, $tmp/n.B.pcap, $tmp/n.C.pcap"'
two=scenarios/teardown/lost_final_ack.lua
"$tcpsim" run "$two" --quiet --sim 1 --pcap "$tmp/two.pcap" --pcapng "$tmp/two.pcapng"
"$tcpsim" run "$two" --quiet --sim 1 --pcap "$tmp/two-s.pcap" --pcapng "$tmp/two-s.pcapng" --pcap-at sender
check "two hosts: sender is the default, the same pcap and pcapng bytes" \
  'cmp -s "$tmp/two.pcap" "$tmp/two-s.pcap" && cmp -s "$tmp/two.pcapng" "$tmp/two-s.pcapng" && [ "$(count "$tmp/two.pcap")" -gt 0 ]'
check "receiver: one record per delivery, at its time" \
  '[ "$(records "$tmp/receiver.pcap" | awk "{print \$2}" | sort)" = "$(times "[A-C]>[A-C] deliver")" ]'
check "receiver: the lost SYN,ACK (B>A at 0.010) is not there" \
  '! records "$tmp/receiver.pcap" | grep -q " 0.010000000 10.0.0.2 10.0.0.1$"'
check "sender: the lost SYN,ACK is there" \
  'records "$tmp/sender.pcap" | grep -q " 0.010000000 10.0.0.2 10.0.0.1$"'
check "B:A holds what B sent to A and what reached B from A" \
  '[ "$(records "$tmp/B:A.pcap" | awk "{print \$2}" | sort)" = "$( (times "B>A send"; times "A>B deliver") | sort)" ]'
check "B:A: only A and B's addresses" \
  '! records "$tmp/B:A.pcap" | grep -q "10.0.0.3"'
check "B:C: only B and C's addresses" \
  '! records "$tmp/B:C.pcap" | grep -q "10.0.0.1"'
check "B:A and B:C together are B's capture" \
  '[ $(( $(count "$tmp/B:A.pcap") + $(count "$tmp/B:C.pcap") )) -eq "$(count "$tmp/B.pcap")" ] && [ "$(count "$tmp/B:A.pcap")" -gt 0 ] && [ "$(count "$tmp/B:C.pcap")" -gt 0 ]'
check "A has one link: A:B is A's capture" 'cmp -s "$tmp/A.pcap" "$tmp/A:B.pcap"'

if command -v tshark >/dev/null; then
  for at in receiver B:A B:C; do
    n=$(tshark -r "$tmp/$at.pcapng" 2>/dev/null | wc -l)
    check "tshark reads --pcap-at $at: $(count "$tmp/$at.pcap") frames" '[ "$n" -eq "$(count "$tmp/$at.pcap")" ]'
  done
  check "pcapng B:A: the interface is B's end of the link to A" \
    '[ "$(tshark -r "$tmp/B:A.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort -u)" = "B (link to A)" ]'
  check "pcapng receiver: no 'dropped on the way' (a lost packet never arrives)" \
    '! tshark -r "$tmp/receiver.pcapng" -T fields -e frame.comment 2>/dev/null | grep -q "dropped on the way"'
  check "pcapng receiver: B's first state change comments the SYN that arrived" \
    'tshark -r "$tmp/receiver.pcapng" -T fields -e frame.time_epoch -e frame.comment 2>/dev/null | grep -q "^0.010000000.*B: LISTEN -> SYN_RECEIVED"'
  # Retransmission comments against Wireshark's own analysis: the frames
  # Wireshark takes for retransmissions, less the copies a link made (which
  # say so), are the frames commented "retransmission #N", at the senders.
  for s in "$f" scenarios/robustness/lossy_transfer.lua scenarios/handshake/lost_synack.lua \
           scenarios/teardown/lost_final_ack.lua; do
    "$tcpsim" run "$s" --quiet --sim 1 --pcapng "$tmp/rtx.pcapng" --pcap-at sender >/dev/null 2>&1
    tshark -r "$tmp/rtx.pcapng" -T fields -E separator='|' -e frame.number -e frame.comment \
      -e tcp.analysis.retransmission -e tcp.analysis.fast_retransmission \
      -e tcp.analysis.spurious_retransmission 2>/dev/null >"$tmp/rtx.txt"
    ours=$(awk -F'|' '$2 ~ /retransmission #/ {print $1}' "$tmp/rtx.txt")
    ws=$(awk -F'|' '($3 $4 $5) != "" && $2 !~ /duplicate made by the link/ {print $1}' "$tmp/rtx.txt")
    check "pcapng $(basename "$s"): retransmission comments on Wireshark's retransmissions ($(echo $ours))" \
      '[ -n "$ours" ] && [ "$ours" = "$ws" ]'
  done
  # Ports: Wireshark decodes no packet of any scenario as an application
  # protocol (the scenarios' ports and the profiles' ephemeral ones); the
  # captures are read in one go (mergecap -a, in the same package).
  n=0
  for s in $(find scenarios -name '*.lua' -not -path '*/lib/*' | LC_ALL=C sort); do
    n=$((n + 1))
    "$tcpsim" run "$s" --quiet --sim 1 --pcap "$tmp/any$n.pcap" --pcap-at sender >/dev/null 2>&1
  done
  mergecap -a -w "$tmp/all.pcap" "$tmp"/any*.pcap
  protos=$(tshark -r "$tmp/all.pcap" -T fields -e _ws.col.Protocol 2>/dev/null | sort | uniq -c | tr -s ' ')
  check "the captures of $n scenarios decode as TCP only:$protos" \
    '[ "$(grep -cvx " *[0-9]* TCP" <<<"$protos")" -eq 0 ] && [ "${protos// TCP/}" -gt 1000 ]'
else
  echo "note: tshark not installed; the files were checked by the reader above only"
fi

# File names: each simulation's tag, then the host; a host name's bytes
# other than letters, digits, - and _ become _ ("A</script>": A__script_).
"$tcpsim" run - --quiet --pcap "$tmp/m.pcap" >/dev/null 2>&1 <<'LUA'
for s = 1, 2 do
  local sim = tcpsim.new { seed = s }
  local a, b, c = sim:host "A</script>", sim:host "B", sim:host "C"
  sim:link(a, b, { delay = "1ms" })
  sim:link(b, c, { delay = "1ms" })
  b:listen(80)
  a:connect(b, 80)
  sim:run_for "1s"
end
LUA
check "two simulations: OUT.simK.HOST.pcap, host names made safe" \
  '[ "$(cd "$tmp" && ls m.*)" = "$(printf "%s\n" m.sim1.A__script_.pcap m.sim1.B.pcap m.sim1.C.pcap m.sim2.A__script_.pcap m.sim2.B.pcap m.sim2.C.pcap)" ]'
err=$(printf 'local sim = tcpsim.new {}\nsim:host "a/b"; sim:host "a_b"; sim:host "c"\nsim:run_for "1s"\n' |
  "$tcpsim" run - --quiet --pcap "$tmp/same.pcap" 2>&1); rc=$?
check "hosts a/b and a_b: the same file name, exit 2" \
  '[ $rc -eq 2 ] && grep -q "hosts a/b and a_b would share the file name a_b" <<<"$err" && ! ls "$tmp"/same.* 2>/dev/null'
err=$(printf 'local sim = tcpsim.new {}\nfor i = 1, 65 do sim:host("h" .. i) end\nsim:run_for "1s"\n' |
  "$tcpsim" run - --quiet --pcap "$tmp/many.pcap" 2>&1); rc=$?
check "65 hosts: one capture per host refused (exit 2), --pcap-at still works" \
  '[ $rc -eq 2 ] && grep -q "65 hosts" <<<"$err" && ! ls "$tmp"/many.* 2>/dev/null &&
   printf "local sim = tcpsim.new {}\nfor i = 1, 65 do sim:host(\"h\" .. i) end\nsim:run_for \"1s\"\n" |
     "$tcpsim" run - --quiet --pcap "$tmp/many.pcap" --pcap-at h7 >/dev/null 2>&1; [ -s "$tmp/many.pcap" ]'

err=$(run --pcap "$tmp/z.pcap" --pcap-at A:Z 2>&1); rc=$?
check "--pcap-at A:Z: exit 2 naming the hosts" '[ $rc -eq 2 ] && grep -q "no such host; the hosts are A, B, C" <<<"$err"'
err=$(run --pcap "$tmp/z.pcap" --pcap-at A:A 2>&1); rc=$?
check "--pcap-at A:A: refused" '[ $rc -eq 2 ]'
exit $fail
