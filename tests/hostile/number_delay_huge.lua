-- a delay of 1e300 s
-- expect: exit 2
-- expect-error: number_delay_huge.lua:6: sim:link option 'delay': unknown unit "e300s" in duration "1e300s
local sim = tcpsim.new {}
local a, b = sim:host 'A', sim:host 'B'
sim:link(a, b, { delay = '1e300s' })
