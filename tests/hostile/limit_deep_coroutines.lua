-- nested coroutines end with a clear error, naming the line where the C stack ran out once (not
-- once per coroutine.wrap level it passed through)
-- expect: exit 2
-- expect-error: limit_deep_coroutines.lua:6: C stack overflow
-- expect-not: limit_deep_coroutines.lua:7:
local function nest(n) return coroutine.wrap(function() return nest(n + 1)() end) end
nest(1)()
