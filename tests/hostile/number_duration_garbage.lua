-- a duration with no unit
-- expect: exit 2
-- expect-error: number_duration_garbage.lua:5: sim:run_for: expected a duration such as "50ms" or "1.5s", 
local sim = tcpsim.new {}
sim:run_for 'soon'
