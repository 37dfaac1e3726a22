-- a hook making a new simulation
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
local made = 0
link:hook(function() made = made + 1 local s2 = tcpsim.new {} end)
sim:run_for '1s'
expect(made):at_least(1)
