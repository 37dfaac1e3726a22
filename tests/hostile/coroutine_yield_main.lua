-- coroutine.yield in the main chunk names its line
-- expect: exit 2
-- expect-error: coroutine_yield_main.lua:6: attempt to yield from outside a coroutine
local sim = tcpsim.new {}
sim:log("before")
coroutine.yield(1)
expect(1):equals(1)
