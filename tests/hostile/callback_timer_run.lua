-- sim:run from inside a timer callback is refused
-- expect: exit 2
-- expect-error: callback_timer_run.lua:7: sim:run cannot be called from inside the run (a callback or hook
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
sim:after('1s', function() sim:run() end)
sim:run()
