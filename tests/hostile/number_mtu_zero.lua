-- mtu 0
-- expect: exit 2
-- expect-error: number_mtu_zero.lua:6: sim:link: mtu must be in [68,65535], got 0
local sim = tcpsim.new {}
local a, b = sim:host 'A', sim:host 'B'
sim:link(a, b, { mtu = 0 })
