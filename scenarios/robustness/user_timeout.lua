-- TCP_USER_TIMEOUT (Linux tcp_write_timeout): with user_timeout set, the
-- retransmission count no longer decides; the connection ends with
-- ETIMEDOUT once the unacknowledged data has waited that long through at
-- least one retransmission. Under linux, with a 100 ms RTT the RTO is
-- 300 ms: the data goes again at +0.3 s, +0.9 s and +2.1 s; the next RTO
-- (2.4 s) is cut to what is left of the 3 s (tcp_clamp_rto_to_user_timeout),
-- so the connection ends at exactly +3 s, without an RST (tcp_write_err).
-- Every profile ends at +3 s; the RTOs before differ.
-- Tail loss probes are off so that the RTO alone retransmits.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 12, delay = "50ms", tlp = false }
local linux = sim.profile == "linux"
local server, client, peer = pair.connect(sim, a, b, 80)
client:setopt { user_timeout = "3s" }
local info = client:info()
expect(info.ca_state):equals "open"
if linux then expect(info.rto):equals(sim.duration "300ms") end
link:partition()
local sent_at = sim.now
client:send "lost"
sim:run_for "1s"
info = client:info()
expect(info.ca_state):equals "loss"
expect(info.unacked):equals(1)
if linux then
  expect(info.retransmits):equals(2)
  expect(info.total_retrans):equals(2)
else
  expect(info.retransmits):at_least(1)
end
sim:run_for "5s"
expect(client):error "ETIMEDOUT"
expect(client):entered("CLOSED", tcpsim.ns(sent_at + sim.duration "3s"))
expect(#link:segments { from = a, flags = "RST" }):equals(0)
