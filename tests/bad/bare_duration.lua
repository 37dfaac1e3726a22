-- A bare number where a duration is expected: milliseconds? seconds?
-- expect-exit: 2
-- expect-error: bare_duration.lua:7: sim:run_for: 10 is ambiguous: write "10ms", "10s" or tcpsim.ns(10)
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
sim:run_for(10)
