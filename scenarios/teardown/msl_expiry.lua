-- TIME_WAIT lasts 2*MSL, and MSL depends on who you ask: RFC 9293 §3.4.1
-- says 2 minutes (TIME_WAIT 4 min); BSD uses MSL 30 s (60 s); Linux does
-- not use an MSL at all but holds TIME_WAIT for a fixed 60 s
-- (TCP_TIMEWAIT_LEN); and a scenario may set its own MSL.
local pair = require "pair"

local function time_wait(opts)
  local sim, a, b = pair.new(opts)
  local server, client, peer = pair.connect(sim, a, b, 80)
  client:close()
  sim:run_for "1s"
  peer:close()
  sim:run()
  return client
end

expect(time_wait { profile = "rfc9293", delay = "10ms" }):spent("TIME_WAIT", "4min")
expect(time_wait { profile = "bsd", delay = "10ms" }):spent("TIME_WAIT", "60s")
expect(time_wait { profile = "linux", delay = "10ms" }):spent("TIME_WAIT", "60s")
expect(time_wait { profile = "rfc9293", msl = "5s", delay = "10ms" }):spent("TIME_WAIT", "10s")
