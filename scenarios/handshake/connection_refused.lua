-- A SYN to a port nobody listens on. RFC 9293 §3.10.7.1 (CLOSED state):
-- the answer is an RST with SEQ 0 and ACK = SEG.SEQ + 1 (the SYN counts
-- one), and A's connect fails with "connection refused".
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "50ms" })

local client = a:connect(b, 81)
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "CLOSED" }
expect(client):error "ECONNREFUSED"
expect(link):exchange { "A>B SYN", "B>A RST,ACK" }
local syn = link:last { from = a, flags = "SYN" }
local rst = link:last { from = b, flags = "RST" }
expect(rst.seq):equals(0)
expect(rst.ack):equals((syn.seq + 1) & 0xffffffff)
expect(client):entered("CLOSED", "100ms", 2)
