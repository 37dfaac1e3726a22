-- socket:setopt with an mss past what the stack takes names the option,
-- the value and the range at the scenario's line
-- expect: exit 2
-- expect-error: options_mss_out_of_range.lua:9: socket:setopt: mss must be in [64,65495], got 70000
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "1ms" })
local server = b:listen(80)
server:setopt { mss = 70000 }
