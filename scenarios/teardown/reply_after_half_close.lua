-- A server answers a half-close with 20 kB (RFC 9293 §3.6, case 2: the
-- side that has not closed may go on sending, and everything it sent
-- before its FIN must be delivered). B's reply is larger than its
-- congestion window, so most of it is still queued when B closes and
-- enters LAST_ACK; the rest, and the FIN behind it, must go out as A's
-- ACKs open the window. RFC 9293 §3.10.7.4, fifth step, for LAST-ACK and
-- CLOSING: the ACK is processed as in ESTABLISHED first (SND.UNA and the
-- window advance), so sending goes on in those states.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 3, delay = "10ms" }
local server, client, peer = pair.connect(sim, a, b, 80, { autoread = true })

local reply = string.rep("reply to a half-close ", 1000):sub(1, 20000)
client:shutdown()
sim:run_for "100ms"
expect(peer):state "CLOSE_WAIT"
peer:send(reply)
peer:close()
sim:run_for "30s"

expect(client):received(reply)
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT" }
-- B's FIN follows the last byte of the reply: it takes sequence number
-- ISS + 1 + 20000 (alone or at the end of the last data segment)
local synack = link:last { from = b, flags = "SYN,ACK" }
local fin = link:last { from = b, flags = "FIN" }
expect((fin.seq + fin.len) & 0xffffffff):equals((synack.seq + 1 + #reply) & 0xffffffff)
-- nothing was lost, so nothing was sent twice
expect(peer.stats.retransmits):equals(0)
