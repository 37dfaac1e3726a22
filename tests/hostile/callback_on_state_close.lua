-- closing and aborting sockets from on_state
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
client:on_state(function(s, from, to) if to == 'ESTABLISHED' then s:close() end end)
sim:run_for '5min'
expect(client):contains { 'ESTABLISHED', 'FIN_WAIT_1' }
