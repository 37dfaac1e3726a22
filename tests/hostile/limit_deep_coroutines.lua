-- nested coroutines end with a clear error
-- expect: exit 2
-- expect-error: limit_deep_coroutines.lua:5: 
local function nest(n) return coroutine.wrap(function() return nest(n + 1)() end) end
nest(1)()
