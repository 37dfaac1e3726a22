#!/usr/bin/env bash
# Explore's `data` invariant (docs/explore.md): bytes a reader read are a
# prefix of what its peer sent, and an autoread reader that got the FIN
# read all of them. A connection on an autoread listener has a reader only
# from accept() on (docs/scenarios.md), so one never accepted is not held
# to it; one accepted still is. Usage: data.sh TCPSIM
set -u
T=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Never accepted: the client's 5 bytes and FIN wait in B's connection,
# which no one can read. RFC 9293 §3.6: A's FIN is ACKed, and B's user
# never closes, so A stays in FIN_WAIT_2 and B in CLOSE_WAIT.
cat >"$tmp/unaccepted.lua" <<'LUA'
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
local server = b:listen(80, { autoread = true })
local client = a:connect(b, 80)
sim:run_for "1s"
client:send "hello"
client:close()
sim:run()
expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2" }
LUA
"$T" run "$tmp/unaccepted.lua" --schedule - >"$tmp/u" 2>&1 ||
  { cat "$tmp/u"; fail "a connection never accepted has no reader: no data invariant"; }
grep -q "^INVARIANT" "$tmp/u" && { cat "$tmp/u"; fail "an invariant failed"; }
"$T" explore "$tmp/unaccepted.lua" --faults 1 >"$tmp/ux" 2>/dev/null ||
  { cat "$tmp/ux"; fail "explore: no schedule may fail"; }
grep -q "invariant data" "$tmp/ux" && fail "explore: the data invariant failed"

# The positive control: B's user accepts, so B's connection reads as data
# arrives; a crafted FIN at A's next sequence number is taken by B
# (RFC 9293 §3.10.7.4, eighth step), and A's 5 bytes then come after the
# FIN and are never read. The invariant must catch that loss.
# accepted.lua: A connected to B's autoread listener, B's user accepted.
cat >"$tmp/accepted.lua" <<'LUA'
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80, { autoread = true })
local client = a:connect(b, 80)
sim:run_for "1s"
local peer = server:accept()
LUA
{ cat "$tmp/accepted.lua"; cat <<'LUA'; } >"$tmp/lost.lua"
link:inject { from = a, flags = "FIN,ACK" }
sim:run_for "1s"
client:send "hello"
sim:run()
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT" }
LUA
"$T" run "$tmp/lost.lua" --schedule - >"$tmp/l" 2>&1
[ $? -eq 1 ] || { cat "$tmp/l"; fail "a lost read must fail the run"; }
grep -q "^INVARIANT data failed: B:80 got the FIN after 0 of 5 bytes$" "$tmp/l" ||
  { cat "$tmp/l"; fail "the data invariant must catch the accepted connection's loss"; }
# The same loss in a sim that keeps no bytes read (keep_received = false):
# the invariant has only the count to check, and the count shows it.
sed 's/tcpsim.new { seed = 1 }/tcpsim.new { seed = 1, keep_received = false }/' \
  "$tmp/lost.lua" >"$tmp/lost_unkept.lua"
grep -q "keep_received = false" "$tmp/lost_unkept.lua" || fail "lost_unkept.lua was not made"
"$T" run "$tmp/lost_unkept.lua" --schedule - >"$tmp/lu" 2>&1
[ $? -eq 1 ] || { cat "$tmp/lu"; fail "a lost read must fail the run without the bytes kept"; }
grep -q "^INVARIANT data failed: B:80 got the FIN after 0 of 5 bytes$" "$tmp/lu" ||
  { cat "$tmp/lu"; fail "the data invariant must catch the loss from the count alone"; }
# and every schedule of a clean transfer holds it, bytes kept or not
sed 's/tcpsim.new { seed = 1 }/tcpsim.new { seed = 1, keep_received = false }/' \
  "$tmp/unaccepted.lua" | sed 's/^sim:run_for "1s"$/sim:run_for "1s"; server:accept()/' |
  sed 's/^expect(client).*$/expect(client):state "FIN_WAIT_2"/' >"$tmp/clean_unkept.lua"
"$T" explore "$tmp/clean_unkept.lua" --faults 1 >"$tmp/cx" 2>&1 ||
  { cat "$tmp/cx"; fail "explore without the bytes kept: no schedule may fail"; }
grep -q "0 invariant failures" "$tmp/cx" || { cat "$tmp/cx"; fail "explore reported failures"; }

# An over-read: B reads A's 5 bytes, then 3 a crafted segment adds at A's
# SND.NXT (RFC 9293 §3.10.7.4: in the window, so taken). The reader has
# read more than was sent; the report must say so, kept bytes or not (not
# that the bytes "differ at 5", where nothing differs).
{ cat "$tmp/accepted.lua"; cat <<'LUA'; } >"$tmp/over.lua"
client:send "hello"
sim:run_for "1s"
link:inject { from = a, flags = "ACK", seq = client.snd_nxt, data = "xyz" }
sim:run_for "1s"
expect(peer.nreceived):equals(8)
LUA
for keep in true false; do
  sed "s/tcpsim.new { seed = 1 }/tcpsim.new { seed = 1, keep_received = $keep }/" \
    "$tmp/over.lua" >"$tmp/over_$keep.lua"
  grep -q "keep_received = $keep" "$tmp/over_$keep.lua" || fail "over_$keep.lua was not made"
  "$T" run "$tmp/over_$keep.lua" --schedule - >"$tmp/o" 2>&1
  [ $? -eq 1 ] || { cat "$tmp/o"; fail "an over-read must fail the run (keep_received = $keep)"; }
  grep -q "^INVARIANT data failed: B:80 read 8 bytes, 3 more than the 5 sent$" "$tmp/o" ||
    { cat "$tmp/o"; fail "the data invariant must name the over-read (keep_received = $keep)"; }
done

# A reader that shut its read side (shutdown "rd") owes nothing after it:
# under bsd the data that arrives then is dropped (FreeBSD's soshutdown
# flushes and ignores the receive buffer; profile knob shut_rd_discard), so
# B reads 0 of A's 5 bytes and the FIN is no sign of a loss.
cat >"$tmp/shut_rd.lua" <<'LUA'
local sim = tcpsim.new { seed = 1, profile = "bsd" }
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
local server = b:listen(80, { autoread = true })
local client = a:connect(b, 80)
sim:run_for "1s"
local peer = server:accept()
peer:shutdown "rd"
client:send "hello"
client:close()
sim:run_for "5s"
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT" }
LUA
"$T" run "$tmp/shut_rd.lua" --schedule - >"$tmp/s" 2>&1 ||
  { cat "$tmp/s"; fail "a reader that shut its read side owes no bytes"; }
grep -q "^INVARIANT" "$tmp/s" && { cat "$tmp/s"; fail "an invariant failed after shutdown rd"; }
exit 0
