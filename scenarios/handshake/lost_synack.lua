-- B's SYN,ACK is lost. Both ends retransmit when their timers expire
-- (initial RTO 1 s, RFC 6298): A resends its SYN, B resends its SYN,ACK.
-- B stays in SYN_RECEIVED until A's ACK arrives.
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "50ms" })
link:drop_next { from = b, flags = "SYN,ACK" }

local server = b:listen(80)
local client = a:connect(b, 80)
sim:run_for "3s"
local peer = server:accept()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED" }
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED" }
expect(link):saw { "A>B SYN", "B>A SYN,ACK X", "B>A SYN,ACK", "A>B ACK" }
expect(client.stats.retransmits + peer.stats.retransmits):at_least(1)
