-- a timer set past 2^64 ns never fires (the deadline saturates instead of wrapping to now)
-- expect: exit 0
local sim = tcpsim.new {}
sim:run_for "2h"
local fired = false
sim:after("5124095h", function() fired = true end)
sim:run_for "1s"
expect(fired):equals(false)
local f2 = false
sim:at(tcpsim.ns(math.maxinteger), function() f2 = true end)
sim:run_for "1s"
expect(f2):equals(false)
