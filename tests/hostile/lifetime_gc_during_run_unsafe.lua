-- __gc called by hand inside a run (--unsafe gives debug) is refused
-- command: run {file} --quiet --unsafe
-- expect: exit 2
-- expect-error: lifetime_gc_during_run_unsafe.lua:9: a simulation cannot be freed from inside its own run
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local gc = debug.getmetatable(sim).__gc
sim:after('1s', function() gc(sim) end)
sim:run()
