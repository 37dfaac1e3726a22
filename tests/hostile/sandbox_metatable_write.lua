-- changing the metatable getmetatable shows changes nothing
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local mt = getmetatable(sim)
mt.__index = function() return 42 end
expect(sim.now):equals(0)
