-- nth = 0
-- expect: exit 2
-- expect-error: number_nth_zero.lua:7: link:drop_next: nth must be in [1,4294967295], got 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
link:drop_next { nth = 0 }
