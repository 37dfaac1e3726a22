-- TCP_USER_TIMEOUT (Linux tcp_write_timeout): with user_timeout set, the
-- retransmission count no longer decides; the connection ends with
-- ETIMEDOUT once that long has passed since the first retransmission by RTO
-- (tcp_retransmit_skb saves retrans_stamp then; a tail loss probe does not).
-- Under linux, with a 100 ms RTT: the loss probe at +0.3 s (capped at the
-- RTO), the RTO at +0.6 s (the stamp), +1.2 s and +2.4 s; the next RTO is cut
-- to what is left of the 3 s (tcp_clamp_rto_to_user_timeout), so the
-- connection ends at +3.6 s (each timer later by the timer wheel's
-- rounding: at +3.658 s), without an RST (tcp_write_err). Linux
-- 6.18 played A in a kernel run with the same segments (docs/kernel-agreement.md).
local pair = require "pair"
local E = require "expected"
local sim, a, b, link = pair.new { seed = 12, delay = "50ms" }
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
  expect(info.retransmits):equals(1)
  expect(info.total_retrans):equals(2)
else
  expect(info.retransmits):at_least(1)
end
sim:run_for "5s"
expect(client):error "ETIMEDOUT"
if linux then
  -- each timer as Linux's timer wheel runs it (E.timer; exact timers give
  -- +3.6 s): the probe, the RTO (the stamp), two doubled RTOs, then what
  -- is left of the 3 s
  local function ms(n) return sim.duration(n .. "ms") end
  local probe = E.timer(sim.profile, sent_at, ms(300))
  local stamp = E.timer(sim.profile, probe, ms(300))
  local r2 = E.timer(sim.profile, stamp, ms(600))
  local r3 = E.timer(sim.profile, r2, ms(1200))
  expect(client):entered("CLOSED", tcpsim.ns(E.timer(sim.profile, r3, stamp + ms(3000) - r3)))
end
expect(#link:segments { from = a, flags = "RST" }):equals(0)
