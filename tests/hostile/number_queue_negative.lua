-- queue = -1
-- expect: exit 2
-- expect-error: number_queue_negative.lua:6: sim:link: queue must be in [0,4294967295], got -1
local sim = tcpsim.new {}
local a, b = sim:host 'A', sim:host 'B'
sim:link(a, b, { queue = -1 })
