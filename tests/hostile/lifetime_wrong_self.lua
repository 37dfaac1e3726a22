-- a method called on another kind of handle
-- expect: exit 2
-- expect-error: lifetime_wrong_self.lua:7: bad argument #1 to 'run' (tcpsim.sim expected, got tcpsim.link)
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
sim.run(link)
