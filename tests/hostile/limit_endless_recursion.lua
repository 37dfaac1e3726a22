-- unbounded recursion ends with a stack overflow error
-- expect: exit 2
-- expect-error: limit_endless_recursion.lua:4: stack overflow
local function f(n) return 1 + f(n + 1) end
f(1)
