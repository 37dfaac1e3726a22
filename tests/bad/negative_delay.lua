-- A negative duration.
-- expect-exit: 2
-- expect-error: duration must not be negative
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = -5 })
