-- Simultaneous close (RFC 9293 §3.6, figure "Simultaneous close
-- sequence"): both ends close at the same instant; the FINs cross. Each
-- end, in FIN_WAIT_1, receives the other's FIN (without an ACK of its own
-- FIN) and goes to CLOSING; when the ACK of its FIN arrives it enters
-- TIME_WAIT. Both ends wait 2*MSL (with MSL set to 10 s: 20 s), except
-- under Linux, whose TIME_WAIT is a fixed 60 s (TCP_TIMEWAIT_LEN).
local pair = require "pair"
local E = require "expected"
local sim, a, b, link = pair.new { seed = 5, delay = "50ms", msl = "10s" }
local server, client, peer = pair.connect(sim, a, b, 80)

client:close()
peer:close()
sim:run()

local closing = { "ESTABLISHED", "FIN_WAIT_1", "CLOSING", "TIME_WAIT", "CLOSED" }
expect(client):trace { "CLOSED", "SYN_SENT", table.unpack(closing) }
expect(peer):trace { "SYN_RECEIVED", table.unpack(closing) }
expect(client):spent("TIME_WAIT", E.timed_stay(sim.profile, client, "TIME_WAIT", E.time_wait_for_msl(sim.profile, "10s")))
expect(peer):spent("TIME_WAIT", E.timed_stay(sim.profile, peer, "TIME_WAIT", E.time_wait_for_msl(sim.profile, "10s")))
