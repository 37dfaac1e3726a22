-- An RST arriving in TIME_WAIT ("TIME-WAIT assassination", RFC 1337).
-- RFC 9293 with RFC 5961 accepts an RST at exactly RCV.NXT and closes the
-- connection early; the bsd profile, like RFC 1337's recommendation,
-- ignores RSTs in TIME_WAIT and waits the full 2*MSL.
local pair = require "pair"

local function assassinate(profile)
  local sim, a, b, link = pair.new { profile = profile, delay = "10ms", msl = "30s" }
  local server, client, peer = pair.connect(sim, a, b, 80)
  client:close()
  sim:run_for "1s"
  peer:close()
  sim:run_for "1s"
  -- A is in TIME_WAIT; B's stack has forgotten the connection. An RST
  -- from B's side at A's RCV.NXT:
  link:inject { from = b, flags = "RST", seq = link:last({ from = a }).ack }
  sim:run()
  return client
end

local c = assassinate "rfc9293"
expect(c):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED" }
expect(c):spent("TIME_WAIT", "1s")

local d = assassinate "bsd"
expect(d):spent("TIME_WAIT", "60s")
