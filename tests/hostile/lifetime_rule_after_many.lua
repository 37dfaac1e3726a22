-- a rule handle read after many more rules were added
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local r = link:drop_next { len = 3 }
for i = 1, 1000 do link:drop_next { len = 4 } end
expect(r.fired):equals(0)
