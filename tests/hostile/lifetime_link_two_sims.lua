-- a link between hosts of two simulations is refused
-- expect: exit 2
-- expect-error: lifetime_link_two_sims.lua:7: sim:link: host Z belongs to another simulation
local s1, s2 = tcpsim.new {}, tcpsim.new {}
local a = s1:host 'A'
local x, y, z = s2:host 'X', s2:host 'Y', s2:host 'Z'
s1:link(a, z, {})
