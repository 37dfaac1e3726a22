-- A failing expectation: exit 1, expected vs actual, the scenario's file and line.
-- expect-exit: 1
-- expect-error: failing_expectation.lua:11: expect(socket):trace
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
b:listen(80)
local c = a:connect(b, 80)
sim:run_for "1s"
-- the client is ESTABLISHED, not CLOSED:
expect(c):trace { "CLOSED", "SYN_SENT", "CLOSED" }
expect(c):state "ESTABLISHED"
