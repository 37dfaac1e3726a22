-- A segment filter's seq outside the sequence space.
-- expect-exit: 2
-- expect-error: link:last
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, {})
local _ = link:last { seq = -1 }
