-- a timer that re-arms itself at the same instant hits max_events
-- expect: exit 2
-- expect-error: limit_endless_events.lua:7: sim:run stopped: event limit of 100000 reached at t=0.000
local sim = tcpsim.new { max_events = 100000 }
local function again() sim:after(0, again) end
sim:after(0, again)
sim:run()
