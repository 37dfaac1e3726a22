-- a negative delay
-- expect: exit 2
-- expect-error: number_delay_negative.lua:6: sim:link option 'delay': duration must not be negative, got "
local sim = tcpsim.new {}
local a, b = sim:host 'A', sim:host 'B'
sim:link(a, b, { delay = '-5ms' })
