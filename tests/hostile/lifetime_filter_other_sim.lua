-- a fault filter naming a host of another simulation is refused
-- expect: exit 2
-- expect-error: lifetime_filter_other_sim.lua:9: link:drop_next: host Z is not on this link
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local s2 = tcpsim.new {}
local z = s2:host 'Z'
link:drop_next { from = z }
