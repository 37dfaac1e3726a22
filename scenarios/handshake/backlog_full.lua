-- A listener with a backlog of 1 that nobody accepts from. The second
-- connection's SYN finds the queues full; under the linux profile it is
-- dropped silently, and the client keeps retransmitting its SYN.
local sim = tcpsim.new { seed = 1, profile = "linux" }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })

local server = b:listen(80, { backlog = 1 })
local first = a:connect(b, 80)
sim:run_for "1s"
local second = a:connect(b, 80)
sim:run_for "2s"

expect(first):state "ESTABLISHED"
expect(second):state "SYN_SENT"
expect(#link:segments { from = b, flags = "RST" }):equals(0)
expect(second.stats.retransmits):at_least(1)
