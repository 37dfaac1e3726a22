-- Nobody answers: every SYN is lost. A retransmits with exponential backoff
-- (RFC 6298 §5.5) and gives up after the profile's SYN retries: connect
-- fails with ETIMEDOUT. Under the linux profile (tcp_syn_retries = 6) the
-- SYNs leave at 0, 1, 3, 7, 15, 31 and 63 s, and A gives up at 127 s.
local sim = tcpsim.new { seed = 1, profile = "linux" }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "50ms" })
link:partition()

local client = a:connect(b, 80)
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "CLOSED" }
expect(client):error "ETIMEDOUT"
local syns = link:segments { from = a, flags = "SYN" }
expect(#syns):equals(7)
local want = { 0, 1, 3, 7, 15, 31, 63 }
for i, s in ipairs(syns) do
  expect(s.sent):equals(sim.duration(want[i] .. "s"))
end
expect(client):left("SYN_SENT", "127s")
