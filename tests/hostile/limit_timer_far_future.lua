-- a timer set past 2^64 ns never fires (saturated), run_for ends
-- expect: exit 0
local sim = tcpsim.new {}
local fired = false
sim:after(tcpsim.ns(math.maxinteger), function() fired = true end)
sim:run_for '1s'
expect(fired):equals(false)
