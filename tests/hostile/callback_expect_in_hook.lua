-- expect inside a hook counts normally
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:hook(function(s) expect(s.len):at_least(0) end)
sim:run_for '1s'
expect(client):state 'ESTABLISHED'
