-- An impossible probability.
-- expect-exit: 2
-- expect-error: loss must be in [0,1], got 1.5
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { loss = 1.5 })
