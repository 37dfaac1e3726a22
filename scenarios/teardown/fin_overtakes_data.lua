-- A FIN that overtakes data (RFC 9293 §3.10.7.4, eighth step: a FIN is
-- processed only when it is in sequence - "If the FIN bit is set ... and
-- the segment is in sequence" - so the receiver must not enter CLOSE_WAIT
-- while data before the FIN is still missing).
--
-- A sends 2000 bytes (a full segment, 1460 bytes, or 1448 with the
-- timestamp option Linux and FreeBSD send, and the rest: 540 or 552) and
-- then closes; the FIN goes in a segment of its own. The link delays the
-- last data segment by
-- 100 ms, so B sees the FIN first. B keeps the FIN aside (it lies beyond
-- RCV.NXT), stays ESTABLISHED and acknowledges only the first 1460 bytes.
-- When the late segment arrives, the FIN becomes in-sequence: B delivers
-- all 2000 bytes, acknowledges the data and the FIN together, and only then
-- enters CLOSE_WAIT. A's FIN_WAIT_1 lasts until that ACK. The early FIN is
-- an out-of-order segment, so B answers it at once with a duplicate ACK
-- (RFC 5681 §4.2: "A TCP receiver SHOULD send an immediate duplicate ACK
-- when an out-of-order segment arrives").
local pair = require "pair"
local E = require "expected"
local sim, a, b, link = pair.new { seed = 4, delay = "10ms" }
local server, client, peer = pair.connect(sim, a, b, 80, { autoread = true, nodelay = true })

local rest = 2000 - E.full_segment_1500[sim.profile]
local late = link:delay_next { from = a, len = rest, by = "100ms" }
local data = string.rep("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", 50):sub(1, 2000)
client:send(data)
sim:run_for "1ms"
client:close()
sim:run_for "2s"

expect(late.fired):holds "the last data segment was delayed"
local seg540 = link:last { from = a, len = rest }
local fin = link:last { from = a, flags = "FIN" }
expect(seg540 ~= nil and fin ~= nil):holds "A sent the last data segment and the FIN"
if not (seg540 and fin) then return end
expect(fin.len):equals(0)
expect(fin.seq):equals((seg540.seq + rest) & 0xffffffff)
expect(fin.arrived < seg540.arrived):holds "the FIN arrived before the last data"

expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT" }
-- CLOSE_WAIT begins when the missing data arrives, not when the FIN did
expect(peer):entered("CLOSE_WAIT", tcpsim.ns(seg540.arrived))
expect(peer):received(data)
expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2" }
-- A's FIN is acknowledged one one-way delay after the late segment arrives
expect(client):left("FIN_WAIT_1", tcpsim.ns(seg540.arrived + sim.duration "10ms"))
expect(client.stats.retransmits):equals(0)
-- no ACK from B covers the FIN before the missing data has arrived
local acked_fin_at
for _, s in ipairs(link:segments { from = b, flags = "ACK" }) do
  if s.ack == ((fin.seq + 1) & 0xffffffff) then acked_fin_at = acked_fin_at or s.sent end
end
expect(acked_fin_at ~= nil):holds "B acknowledged the FIN in the end"
expect(acked_fin_at):equals(seg540.arrived)
-- RFC 5681 §4.2 (SHOULD) and docs/stack.md ("an ACK at once ... for out-of-order
-- data ... and for a FIN"): the early FIN, an out-of-order segment, should
-- draw an immediate duplicate ACK for the first 1460 bytes
local dup
for _, s in ipairs(link:segments { from = b, flags = "ACK" }) do
  if s.sent == fin.arrived then dup = s end
end
expect(dup ~= nil):holds "an immediate duplicate ACK answered the early FIN"
expect(dup and dup.ack):equals(seg540.seq)
