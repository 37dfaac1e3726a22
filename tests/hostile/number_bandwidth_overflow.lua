-- a bandwidth that overflows 64 bits
-- expect: exit 2
-- expect-error: number_bandwidth_overflow.lua:6: sim:link: bandwidth '99999999999999999999Gbps' is too lar
local sim = tcpsim.new {}
local a, b = sim:host 'A', sim:host 'B'
sim:link(a, b, { bandwidth = '99999999999999999999Gbps' })
