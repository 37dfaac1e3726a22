-- Recovery from an old duplicate SYN (RFC 9293 §3.5, figure "Recovery from
-- Old Duplicate SYN"; SYN-SENT rules in §3.10.7.3, SYN-RECEIVED rules in
-- §3.10.7.4 second step).
--
-- A stale SYN from an earlier incarnation of A's connection (same ports,
-- sequence 90) reaches B before A's real SYN (ISN 100). B's listener makes a
-- child and answers SYN,ACK with ACK = 91. A is in SYN_SENT with ISS = 100,
-- so an ACK of 91 is not acceptable (SEG.ACK =< ISS): A answers
-- <SEQ=SEG.ACK><CTL=RST> = <SEQ=91><CTL=RST> and stays in SYN_SENT. The RST
-- is in B's window, so B's child returns to LISTEN (passive open) - the
-- listener never left it. Then the real SYN arrives and the ordinary
-- three-way handshake completes with A's ISN 100 acknowledged as 101.
--
-- The figure's exchange needs A to wait for its held SYN: Linux would send
-- its SYN again 2 ms after the bad ACK (TCP_TIMEOUT_MIN), so the linux
-- profile's syn_bad_ack_rexmit is turned off here, on A (the side in
-- SYN_SENT; the pkt script rst-syn-sent-bad-ack shows Linux's way).
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 3, delay = "20ms", A = { syn_bad_ack_rexmit = "0ms" } }

local server = b:listen(80)
-- keep A's real SYN on the wire until the old one has been dealt with
local real_syn = link:hold_next { from = a, flags = "SYN", exact = true }
local client = a:connect(b, 80, { port = 5000, isn = 100 })
link:inject { from = a, flags = "SYN", seq = 90, ack = 0, sport = 5000, dport = 80, win = 65535 }
sim:run_for "200ms"

-- steps 3-5 of the figure
local synack1 = link:last { from = b, flags = "SYN,ACK" }
expect(synack1.ack):equals(91)
local rst = link:last { from = a, flags = "RST" }
expect(rst ~= nil):holds "A reset the SYN,ACK that acknowledged the old SYN"
expect(rst and rst.seq):equals(91)
expect(client):state "SYN_SENT"
expect(server):state "LISTEN"
-- the child that answered the old SYN is gone: only the listener and A's socket are left
expect(b.connections):equals(1)
expect(server:accept()):equals(nil)

-- steps 6-8: the real SYN now gets through
real_syn:release()
local peer = server:accept_wait "10s"
sim:run_for "200ms"

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED" }
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED" }
expect(server):trace { "CLOSED", "LISTEN" }
local synack2 = link:last { from = b, flags = "SYN,ACK" }
expect(synack2.ack):equals(101)
-- in the order the segments entered the link: A's real SYN was sent first
-- (and held), the old duplicate second
expect(link):exchange { "A>B SYN", "A>B SYN", "B>A SYN,ACK", "A>B RST", "B>A SYN,ACK", "A>B ACK" }
local syns = link:segments { from = a, flags = "SYN" }
expect(syns[1].seq):equals(100)
expect(syns[2].seq):equals(90)
expect(syns[2].arrived < syns[1].arrived):holds "the old SYN arrived first"
-- no retransmission was needed
expect(client.stats.retransmits):equals(0)
