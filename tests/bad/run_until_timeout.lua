-- A condition that never holds within the timeout stops the scenario with
-- its line and the timeout, instead of letting it go on as if it had held.
-- expect-exit: 2
-- expect-error: run_until_timeout.lua:11: sim:run_until: the condition did not hold within the timeout of 3s
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
link:partition()
b:listen(80)
local client = a:connect(b, 80)
sim:run_until(function() return client.state == "ESTABLISHED" end, "3s")
expect(client):state "ESTABLISHED"
