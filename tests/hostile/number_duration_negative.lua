-- a negative duration
-- expect: exit 2
-- expect-error: number_duration_negative.lua:5: sim:after: duration must not be negative, got "-1s"
local sim = tcpsim.new {}
sim:after('-1s', function() end)
