-- The lost final ACK (RFC 9293 §3.6): B closes first and ends in
-- TIME_WAIT; its ACK of A's FIN is lost, so A, in LAST_ACK, retransmits its
-- FIN when its RTO expires. B, in TIME_WAIT, must ACK the retransmitted FIN
-- again and restart the 2*MSL timer (§3.10.7.4, TIME-WAIT: "restart the 2
-- MSL time-out"). With MSL = 30 s, B leaves TIME_WAIT exactly 60 s after
-- that second FIN arrived (later by Linux's timer wheel under the linux
-- profile: E.timer).
local E = require "expected"
local sim = tcpsim.new { seed = 7, profile = "rfc9293", msl = "30s" }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "50ms" })

local server = b:listen(80)
local client = a:connect(b, 80)
sim:run_until(function() return client.state == "ESTABLISHED" end)
sim:run_for "100ms"
local peer = server:accept()

-- the only ACK B sends while A is in LAST_ACK is the final one
link:drop_next { from = b, flags = "ACK", when = function() return client.state == "LAST_ACK" end }
peer:close()
sim:run_for "1s"
client:close()
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED" }
local fins = link:segments { from = a, flags = "FIN" }
expect(#fins):equals(2)
expect(fins[2].seq):equals(fins[1].seq) -- the same FIN, sent again
local fin2 = link:last { from = a, flags = "FIN" }
expect(peer):left("TIME_WAIT", tcpsim.ns(E.timer(sim.profile, fin2.arrived, sim.duration "60s")))
expect(link):saw { "B>A FIN,ACK", "A>B ACK", "A>B FIN,ACK", "B>A ACK X", "A>B FIN,ACK", "B>A ACK" }
