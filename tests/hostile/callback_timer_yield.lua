-- yielding from a timer callback is a clear error
-- expect: exit 2
-- expect-error: callback_timer_yield.lua:7: attempt to yield from outside a coroutine
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
sim:after('1s', function() coroutine.yield() end)
sim:run()
