-- A state name that RFC 9293 does not have is an error, not a failed expectation.
-- expect-exit: 2
-- expect-error: unknown state 'ESTABLISH'
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
b:listen(80)
local c = a:connect(b, 80)
sim:run()
expect(c):trace { "CLOSED", "SYN_SENT", "ESTABLISH" }
