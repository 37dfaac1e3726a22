-- TIME_WAIT lasts 2*MSL, and MSL depends on who you ask: RFC 9293 §3.4.2
-- says 2 minutes (TIME_WAIT 4 min); BSD uses MSL 30 s (60 s); Linux does
-- not use an MSL at all but holds TIME_WAIT for a fixed 60 s
-- (TCP_TIMEWAIT_LEN); and a scenario may set its own MSL, which Linux's
-- TIME_WAIT ignores. Sources: scenarios/lib/expected.lua.
local pair = require "pair"
local E = require "expected"

local function time_wait(opts)
  local sim, a, b = pair.new(opts)
  local server, client, peer = pair.connect(sim, a, b, 80)
  client:close()
  sim:run_for "1s"
  peer:close()
  sim:run()
  return client, sim.profile
end

local c, profile = time_wait { delay = "10ms" }
expect(c):spent("TIME_WAIT", E.timed_stay(profile, c, "TIME_WAIT", E.time_wait[profile]))
local c2 = time_wait { msl = "5s", delay = "10ms" }
expect(c2):spent("TIME_WAIT", E.timed_stay(profile, c2, "TIME_WAIT", E.time_wait_for_msl(profile, "5s")))
