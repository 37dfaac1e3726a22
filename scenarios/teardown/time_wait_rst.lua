-- An RST arriving in TIME_WAIT ("TIME-WAIT assassination", RFC 1337).
-- RFC 9293 with RFC 5961, and Linux (tcp_rfc1337 = 0), accept an RST at
-- exactly RCV.NXT and close the connection early; FreeBSD, like RFC 1337's
-- recommendation, ignores RSTs in TIME_WAIT and waits the full 2*MSL.
local pair = require "pair"
local E = require "expected"

local sim, a, b, link = pair.new { delay = "10ms", msl = "30s" }
local server, client, peer = pair.connect(sim, a, b, 80)
client:close()
sim:run_for "1s"
peer:close()
sim:run_for "1s"
-- A is in TIME_WAIT; B's stack has forgotten the connection. An RST from
-- B's side at A's RCV.NXT:
link:inject { from = b, flags = "RST", seq = link:last({ from = a }).ack }
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED" }
if E.tw_rst_closes[sim.profile] then
  -- TIME_WAIT began when B's FIN arrived, about 1 s before the RST
  expect(client):spent("TIME_WAIT", "1s")
  expect(client.steps[#client.steps].note):equals "rcv RST"
else
  expect(client):spent("TIME_WAIT", E.time_wait_for_msl(sim.profile, "30s"))
end
