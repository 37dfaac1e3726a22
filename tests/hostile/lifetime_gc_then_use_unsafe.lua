-- __gc by hand outside a run: the simulation is finished, not freed twice
-- command: run {file} --quiet --unsafe
-- expect: exit 2
-- expect-error: lifetime_gc_then_use_unsafe.lua:10: attempt to use a finished simulation
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
debug.getmetatable(sim).__gc(sim)
debug.getmetatable(sim).__gc(sim)
sim:run()
