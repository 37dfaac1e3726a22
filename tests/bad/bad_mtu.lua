-- An MTU too small to carry an IPv4 header.
-- expect-exit: 2
-- expect-error: mtu
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { mtu = 20 })
