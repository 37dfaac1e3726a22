-- a maximum RTO above an hour, on the world's profile: refused at tcpsim.new, naming the knob
-- command: run {file} --quiet
-- expect: exit 2
-- expect-error: limit_rto_max_above_1h.lua:5: tcpsim.new: rto_max must be at most 1h
local sim = tcpsim.new { rto_max = "2h" }
sim:host "A"
