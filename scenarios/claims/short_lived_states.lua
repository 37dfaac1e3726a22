-- Claims checked: "SYN_RCVD is so brief that netstat hardly ever shows it,
-- unless the client withholds the last ACK", "FIN_WAIT_1 is rarely seen
-- because the peer ACKs the FIN at once" and "CLOSE_WAIT lasts until the
-- application closes".
--
-- * SYN_RECEIVED normally lasts one round trip (SYN,ACK out, ACK back). If
--   the third segment is lost, the server keeps SYN_RECEIVED until its
--   SYN,ACK retransmission (RTO, initially 1 s: RFC 6298 §2.1) is answered.
--   Lost ACKs and SYN floods, not only deliberately silent clients, make it
--   visible.
-- * FIN_WAIT_1 lasts one round trip only if the FIN can be sent at once.
--   The FIN is sent after all queued data (RFC 9293 §3.10.4), so when the
--   peer's receive window is closed, FIN_WAIT_1 lasts as long as the peer's
--   application does not read - here 5 minutes.
-- * CLOSE_WAIT has no timer in any profile: it ends only with the
--   application's close (RFC 9293 §3.10.4, CLOSE in CLOSE-WAIT).
-- * The closing end is an orphan once its FIN is acknowledged: FIN_WAIT_2
--   then lasts for ever (RFC 9293), 60 s (Linux) or 675 s (FreeBSD):
--   scenarios/lib/expected.lua.
local pair = require "pair"
local E = require "expected"

-- SYN_RECEIVED: one RTT, or one RTO more when the final ACK is lost
do
  local sim, a, b, link = pair.new { seed = 21, delay = "10ms" }
  local server, client, peer = pair.connect(sim, a, b, 80)
  expect(peer):spent("SYN_RECEIVED", "20ms")
end
do
  local sim, a, b, link = pair.new { seed = 21, delay = "10ms" }
  link:drop_next { from = a, flags = "ACK", exact = true }
  local server, client, peer = pair.connect(sim, a, b, 80)
  expect(client):entered("ESTABLISHED", "20ms")
  -- SYN,ACK at 10 ms, again one RTO (1 s) later (on Linux's timer wheel:
  -- E.timer), A's second ACK arrives 20 ms after that
  local again = E.timer(sim.profile, sim.duration "10ms", sim.duration "1s")
  expect(peer):spent("SYN_RECEIVED", tcpsim.ns(again + sim.duration "20ms" - sim.duration "10ms"))
  expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED" }
end

-- FIN_WAIT_1 behind a closed window
do
  local sim, a, b, link = pair.new { seed = 22, delay = "10ms" }
  local server = b:listen(80, { rcvbuf = 4096 })
  local client = a:connect(b, 80)
  local peer = server:accept_wait "10s"
  client:send(10000)
  client:close()
  sim:run_for "5min"
  expect(client):state "FIN_WAIT_1"
  expect(peer):state "ESTABLISHED"
  expect(client.stats.persist_probes):at_least(1)
  -- B's application starts reading: the data, then the FIN, get through
  local got = 0
  sim:run_until(function()
    local d = peer:recv()
    if d == nil then return true end
    got = got + #d
    return false
  end, "1min")
  expect(got):equals(10000)
  sim:run_for "10min"
  local limit = E.fin_wait_2_orphan[sim.profile]
  if limit and sim.duration(limit) <= sim.duration "10min" then
    expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSED" }
    expect(client):spent("FIN_WAIT_2", E.timed_stay(sim.profile, client, "FIN_WAIT_2", limit))
  else
    expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2" }
  end
  -- CLOSE_WAIT stays as long as B's application does not close
  expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT" }
end

-- "FIN_WAIT_1 receiving FIN and ACK together goes straight to TIME_WAIT":
-- B's bare ACK of A's FIN is lost, so B's FIN,ACK is the segment that both
-- acknowledges A's FIN and carries B's FIN. RFC 9293 §3.10.7.4 (FIN in
-- FIN-WAIT-1: "If our FIN has been ACKed (perhaps in this segment), then
-- enter TIME-WAIT"). This stack records it as two transitions at the same
-- instant (docs/stack.md, double-transition rule): FIN_WAIT_2 lasts 0.
do
  local sim, a, b, link = pair.new { seed = 23, delay = "10ms" }
  local server, client, peer = pair.connect(sim, a, b, 80)
  peer:on_state(function(sock, from, to)
    if to == "CLOSE_WAIT" then sock:close() end
  end)
  local lost = link:drop_next { from = b, flags = "ACK", exact = true }
  client:close()
  sim:run_for "1s"
  expect(lost.fired):holds "B's bare ACK was lost"
  expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT" }
  expect(client):spent("FIN_WAIT_2", 0)
  local finack = link:last { from = b, flags = "FIN,ACK" }
  expect(client):entered("TIME_WAIT", tcpsim.ns(finack.arrived))
end
