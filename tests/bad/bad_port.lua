-- A port outside 1..65535.
-- expect-exit: 2
-- expect-error: port must be in [1,65535], got 70000
local sim = tcpsim.new {}
local b = sim:host "B"
b:listen(70000)
