-- a run inside a coroutine whose hook yields
-- expect: exit 2
-- expect-error: callback_hook_yield_in_coroutine.lua:9: attempt to yield from outside a coroutine
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:hook(function() coroutine.yield() end)
local co = coroutine.wrap(function() sim:run_for '1s' end)
co()
