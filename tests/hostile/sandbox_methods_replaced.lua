-- replacing a method in the shown copy does not reach the simulation
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
getmetatable(sim).methods.run = function() error('hijacked') end
sim:run()
expect(1):equals(1)
