-- CLOSE implies PUSH (RFC 9293 §3.8: "The CLOSE user call implies a push
-- function"). A sends 2000 bytes: 1460 go at once, and Nagle's algorithm
-- (§3.7.4) holds the last 540 until the first segment is acknowledged -
-- which B's delayed ACK (200 ms, rfc9293 profile) would postpone. When A
-- then closes, the 540 bytes and the FIN leave together at once, in one
-- segment (Linux tcp_send_fin pushes with Nagle off; FreeBSD sends when a
-- FIN is due). Minshall's variant of Nagle (the linux profile's) would let
-- the runt go at once, so the classic rule is chosen here, for the sender
-- A alone (B sends no data); under a profile with timestamps the segments
-- are 1448 + 552 bytes.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 5, delay = "10ms", A = { nagle_minshall = false } }
local server, client, peer = pair.connect(sim, a, b, 80, { autoread = true })

client:send(string.rep("x", 2000))
sim:run_for "1ms"
local first = link:last { from = a }
local runt = 2000 - first.len
expect(#link:segments { from = a, len = runt }):equals(0)   -- held by Nagle
local closed_at = sim.now
client:close()
sim:run_for "5s"

local last = link:last { from = a, len = runt }
expect(last.flags):equals "FIN,PSH,ACK"
expect(last.sent):equals(closed_at)
expect(#peer.received):equals(2000)
expect(peer):state "CLOSE_WAIT"
