-- an initial RTO above an hour: refused at sim:host, naming the knob
-- command: run {file} --quiet
-- expect: exit 2
-- expect-error: limit_rto_initial_above_1h.lua:6: sim:host: rto_initial must be at most 1h
local sim = tcpsim.new {}
sim:host { name = "A", rto_initial = "61min" }
