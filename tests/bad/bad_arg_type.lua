-- A wrong argument type names the function and what was expected.
-- expect-exit: 2
-- expect-error: number expected, got string
local sim = tcpsim.new {}
local b = sim:host "B"
b:listen("eighty")
