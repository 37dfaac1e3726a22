-- TCP_USER_TIMEOUT (Linux tcp_write_timeout): with user_timeout set, the
-- retransmission count no longer decides; the connection ends with
-- ETIMEDOUT once the unacknowledged data has waited that long through at
-- least one retransmission. With a 100 ms RTT the RTO is 300 ms: the data
-- goes again at +0.3 s, +0.9 s and +2.1 s; the next RTO (2.4 s) is cut to
-- what is left of the 3 s (tcp_clamp_rto_to_user_timeout), so the
-- connection ends at exactly +3 s, without an RST (tcp_write_err).
-- Tail loss probes are off so that the RTO alone retransmits.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 12, delay = "50ms", profile = "linux",
  tlp = false }
local server, client, peer = pair.connect(sim, a, b, 80)
client:setopt { user_timeout = "3s" }
local info = client:info()
expect(info.ca_state):equals "open"
expect(info.rto):equals(sim.duration "300ms")
link:partition()
local sent_at = sim.now
client:send "lost"
sim:run_for "1s"
info = client:info()
expect(info.ca_state):equals "loss"
expect(info.retransmits):equals(2)
expect(info.unacked):equals(1)
expect(info.total_retrans):equals(2)
sim:run_for "5s"
expect(client):error "ETIMEDOUT"
expect(client):entered("CLOSED", tcpsim.ns(sent_at + sim.duration "3s"))
expect(#link:segments { from = a, flags = "RST" }):equals(0)
