-- expectations over sockets of two simulations
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
local s2 = tcpsim.new {}
local x, y = s2:host 'X', s2:host 'Y'
s2:link(x, y, {})
y:listen(80)
local c2 = x:connect(y, 80)
sim:run_for '1s'
s2:run_for '1s'
expect(client):state 'ESTABLISHED'
expect(c2):state 'ESTABLISHED'
