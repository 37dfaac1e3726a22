-- checks: 13
-- Segment filters by absolute seq and ack and by a time window [after,
-- before), in queries and in rules. ISNs are chosen (isn), so every number
-- follows from RFC 9293: SYN seq ISS; SYN,ACK seq ISS' ack ISS+1; ACK
-- seq ISS+1 ack ISS'+1 (§3.5); the link's 10 ms delay places them at 0,
-- 10 and 20 ms.
local sim = tcpsim.new { seed = 1, profile = "rfc9293" }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80, { isn = 5000 })
local client = a:connect(b, 80, { isn = 1000 })
local peer = server:accept_wait()
sim:run_for "100ms"

expect(#link:segments { seq = 1000 }):equals(1)
expect(link:last { seq = 1000 }.flags):equals "SYN"
expect(link:last { ack = 1001 }.flags):equals "SYN,ACK"
expect(#link:segments { from = a, ack = 5001 }):equals(1)
-- The ACK field counts only with ACK set (§3.1): the SYN's zero is no match.
expect(#link:segments { ack = 0 }):equals(0)
expect(#link:segments { before = "10ms" }):equals(1)
expect(link:segments { after = "10ms", before = "20ms" }[1].flags):equals "SYN,ACK"
expect(#link:segments { after = "10ms", before = "20ms" }):equals(1)
expect(#link:segments { after = "20ms" }):equals(1)

-- A rule aimed at one sequence number: the first "hello" is dropped, its
-- retransmission carries the same SEG.SEQ (§3.8.1) and is delivered.
local rule = link:drop_next { from = a, seq = 1001, len = 5 }
client:send "hello"
sim:run_for "5s"
local sent = link:segments { from = a, seq = 1001, len = 5 }
expect(#sent):equals(2)
expect(sent[1].dropped and not sent[2].dropped):holds "first dropped, retransmission delivered"
expect(peer.received):equals "hello"

-- A rule with a time window acts only on segments sent inside it.
local late = link:drop_next { from = a, after = "100s", count = 10 }
client:send "again"
sim:run_for "1s"
expect(late.fired + rule.fired):equals(1)
