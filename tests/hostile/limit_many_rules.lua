-- at most 65536 fault rules
-- expect: exit 2
-- expect-error: limit_many_rules.lua:7: link:drop_next: too many fault rules (at most 65536 per simulation
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
for i = 1, 70000 do link:drop_next { len = 5 } end
