-- a host method given a simulation
-- expect: exit 2
-- expect-error: lifetime_host_method_on_sim.lua:7: bad argument #1 to 'listen' (tcpsim.host expected, got 
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
a.listen(sim, 80)
