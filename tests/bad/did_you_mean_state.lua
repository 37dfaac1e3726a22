-- A misspelt state name is an error answered with the nearest state.
-- expect-exit: 2
-- expect-error: did_you_mean_state.lua:10: expect:contains: unknown state 'FIN_WAIT1x'; did you mean 'FIN_WAIT_1'?
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
b:listen(80)
local c = a:connect(b, 80)
sim:run_for "1s"
expect(c):contains { "ESTABLISHED", "FIN_WAIT1x" }
