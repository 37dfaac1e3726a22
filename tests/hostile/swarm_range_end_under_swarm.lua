-- under tcpsim swarm, a swarm range of the wrong type is a mistake in the command's input, not an
-- outcome of the seed to count: the run stops with the option and the line, exit 2, as it does
-- for a range the knob's parser refuses
-- command: swarm {file} --seeds 1..2
-- expect: exit 2
-- expect-error: swarm_range_end_under_swarm.lua:8: tcpsim.new: swarm.delay: the range's ends must be numbers or strings
-- expect-not: outcomes
local sim = tcpsim.new { seed = 1, swarm = { delay = { {}, "5ms" } } }
