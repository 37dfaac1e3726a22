-- a handle's __gc cannot be reached through getmetatable
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local mt = getmetatable(sim)
expect(mt.__gc):equals(nil)
sim:run()
expect(sim.now):equals(0)
