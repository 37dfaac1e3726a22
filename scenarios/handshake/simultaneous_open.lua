-- Simultaneous open (RFC 9293 §3.5, figure "Simultaneous Connection
-- Synchronization"). Both ends connect to each other's port at once; the
-- SYNs cross. Each end, in SYN_SENT, receives a bare SYN and moves to
-- SYN_RECEIVED (sending SYN,ACK), then the SYN,ACKs cross and both reach
-- ESTABLISHED: two SYNs and two SYN,ACKs cross on the link. The SYN in each
-- SYN,ACK is old news to its receiver, so each end ACKs it (§3.10.7.4; Linux
-- and FreeBSD do): two ACKs follow.
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "50ms" })

local x = a:connect(b, 6000, { port = 5000 })
local y = b:connect(a, 5000, { port = 6000 })
sim:run_for "1s"

expect(x):trace { "CLOSED", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED" }
expect(y):trace { "CLOSED", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED" }
expect(link):saw { "A>B SYN", "B>A SYN" }
-- then each side answers the SYN it received with a SYN,ACK carrying its own ISN
expect(#link:segments { flags = "SYN,ACK", exact = true }):equals(2)
local syn_a, synack_a = link:last { from = a, flags = "SYN", exact = true }, link:last { from = a, flags = "SYN,ACK" }
expect(synack_a.seq):equals(syn_a.seq)
expect(x):entered("SYN_RECEIVED", "50ms")
expect(x):entered("ESTABLISHED", "100ms")
-- and each acknowledges the other's SYN,ACK
expect(#link:segments { flags = "ACK", exact = true }):equals(2)
