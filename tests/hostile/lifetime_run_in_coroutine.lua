-- a run started in a coroutine, finished outside
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
local co = coroutine.create(function() sim:run_for '1s' coroutine.yield() sim:run_for '1s' end)
coroutine.resume(co)
coroutine.resume(co)
expect(client):state 'ESTABLISHED'
