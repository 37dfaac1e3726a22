-- a swarm range whose high end is neither a number nor a string is refused naming the option and
-- the line, as the low end is (not "got table: 0x..." from the knob's parser, an address that
-- changes from run to run)
-- expect: exit 2
-- expect-error: swarm_range_high_end.lua:7: tcpsim.new: swarm.loss: the range's ends must be numbers or strings
-- expect-not: table: 0x
local sim = tcpsim.new { seed = 1, swarm = { loss = { 0, {} } } }
