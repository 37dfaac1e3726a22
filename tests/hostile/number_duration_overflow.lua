-- a duration past 2^64 ns
-- expect: exit 2
-- expect-error: number_duration_overflow.lua:5: sim:run_for: duration "99999999999999999999h" is too large
local sim = tcpsim.new {}
sim:run_for '99999999999999999999h'
