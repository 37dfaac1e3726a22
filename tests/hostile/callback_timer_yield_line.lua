-- yielding from a timer callback (run by the simulator from C, on the main thread) names the line
-- of the yield: Lua raises this error from C, without a location of its own
-- expect: exit 2
-- expect-error: callback_timer_yield_line.lua:10: attempt to yield from outside a coroutine
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
sim:after("5ms", function()
  local note = "about to yield"
  coroutine.yield(note)
end)
sim:run_for "1s"
expect(1):equals(1)
