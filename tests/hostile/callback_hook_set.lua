-- a hook changing its link's parameters
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:hook(function(s) link:set { delay = '1ms', loss = 0 } end)
sim:run_for '1s'
expect(client):state 'ESTABLISHED'
