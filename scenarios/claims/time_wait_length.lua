-- Claims checked: "TIME_WAIT lasts 2*MSL", "RFC 1122 suggests an MSL of
-- 2 minutes, traditional BSD uses 30 s", and "during TIME_WAIT every
-- segment that arrives is discarded".
--
-- * RFC 9293 §3.4.2 (from RFC 793) sets MSL to 2 minutes and §3.10.7.4
--   makes TIME_WAIT 2*MSL: 240 s (rfc9293 profile). With a smaller MSL the
--   wait shrinks with it.
-- * BSD: MSL 30 s (TCPTV_MSL), TIME_WAIT 2*MSL = 60 s.
-- * Linux: TIME_WAIT is the fixed TCP_TIMEWAIT_LEN = 60 s, not derived from
--   a tunable MSL.
-- * Not everything is discarded in TIME_WAIT: a retransmitted FIN from the
--   peer is acknowledged again and restarts the timer (§3.10.7.4; Linux
--   tcp_timewait_state_process reschedules on it; FreeBSD tcp_twcheck
--   re-arms 2*MSL). This file shows it with the peer's last ACK lost; see
--   also teardown/lost_final_ack.lua, teardown/time_wait_rst.lua and
--   teardown/syn_in_time_wait.lua.
-- Values and sources per profile: scenarios/lib/expected.lua.
local pair = require "pair"
local E = require "expected"

local function tw(opts, lose_ack)
  local sim, a, b, link = pair.new(opts)
  local server, client, peer = pair.connect(sim, a, b, 80)
  client:close()
  sim:run_for "1s"
  if lose_ack then
    link:drop_next { from = a, flags = "ACK", exact = true }
  end
  peer:close()
  sim:run()
  return client, peer, sim, link, b
end

local full = { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED" }

local c, _, sim = tw { delay = "10ms" }
local profile = sim.profile
expect(c):trace(full)
expect(c):spent("TIME_WAIT", E.timed_stay(profile, c, "TIME_WAIT", E.time_wait[profile]))

-- a smaller MSL shortens TIME_WAIT, except in Linux
local c2 = tw { delay = "10ms", msl = "30s" }
expect(c2):spent("TIME_WAIT", E.timed_stay(profile, c2, "TIME_WAIT", E.time_wait_for_msl(profile, "30s")))
local c3 = tw { delay = "10ms", msl = "10s" }
expect(c3):spent("TIME_WAIT", E.timed_stay(profile, c3, "TIME_WAIT", E.time_wait_for_msl(profile, "10s")))

-- the retransmitted FIN is answered, and TIME_WAIT starts over from it
local c6, p6, sim6, link6, b6 = tw({ delay = "10ms", msl = "30s" }, true)
expect(c6):trace(full)
expect(p6):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
expect(p6.stats.retransmits):equals(1)
local b_fin = link6:last { from = b6, flags = "FIN" }   -- B's second FIN
expect(#link6:segments { from = b6, flags = "FIN" }):equals(2)
expect(c6):left("TIME_WAIT", tcpsim.ns(E.timer(profile, b_fin.arrived, sim6.duration(E.time_wait_for_msl(profile, "30s")))))
