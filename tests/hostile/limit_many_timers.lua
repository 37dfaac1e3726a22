-- a million timers hit the instruction or event budget, not the machine
-- expect: exit 2
-- expect-error: limit_many_timers.lua:6: sim:run stopped: event limit of 200000 reached at t=0.000200000
local sim = tcpsim.new { max_events = 200000 }
for i = 1, 300000 do sim:after(tcpsim.ns(i), function() end) end
sim:run()
