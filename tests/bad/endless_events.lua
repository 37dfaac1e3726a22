-- A run that never runs out of events is stopped by the event limit.
-- expect-exit: 2
-- expect-error: event limit
local sim = tcpsim.new { max_events = 10000 }
local function tick() sim:after("1ms", tick) end
sim:after("1ms", tick)
sim:run()
