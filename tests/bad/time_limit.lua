-- A run that goes on in virtual time for ever is stopped by the time limit.
-- expect-exit: 2
-- expect-error: time limit
local sim = tcpsim.new { max_time = "10s" }
local function tick() sim:after("1s", tick) end
sim:after("1s", tick)
sim:run()
