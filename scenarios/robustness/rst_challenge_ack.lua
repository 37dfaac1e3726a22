-- An RST inside the receive window but not at RCV.NXT, from a raw peer that
-- writes the segments itself (a second stack never sends such an RST).
--
-- RFC 9293 §3.10.7.4, first ("check sequence number"), for a synchronized
-- state: if the RST bit is set and the sequence number does not exactly
-- match the next expected one, yet is within the receive window, the TCP
-- endpoint MUST send a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
-- and drop the segment (RFC 5961 §3.2). An RST at exactly RCV.NXT resets
-- the connection (§3.10.7.4, second: ESTABLISHED -> CLOSED, the user gets
-- "connection reset"), and nothing is sent in reply.
-- Linux: tcp_validate_incoming sends the challenge ACK (tcp_send_challenge_ack)
-- and resets on an RST at rcv_nxt (tcp_reset).
local sim = tcpsim.new { seed = 3 }
local a = sim:host "A"
local peer = sim:raw_peer(a, { delay = "10ms" })
local listener = a:listen(8080)

-- the handshake, written by hand; the SYN,ACK acknowledges our SYN only
peer:send "0.000 S 0:0(0) win 65535 <mss 1460>"
peer:expect "S. 0:0(0) ack 1 <...>"
peer:send ". 1:1(0) ack 1 win 65535"
local server = listener:accept_wait "1s"
expect(server):state "ESTABLISHED"

-- 100 bytes past RCV.NXT, well inside the window: a challenge ACK, one
-- round trip later, and the connection stays
peer:send "+0.1 R 101:101(0) win 0"
peer:expect "+0.02 . 1:1(0) ack 1"
expect(server):state "ESTABLISHED"
expect(server.stats.challenge_acks):equals(1)

-- the same RST at exactly RCV.NXT resets it, silently
peer:send "+1 R 1:1(0) win 0"
peer:expect_none "2s"
expect(server):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSED" }
expect(server):error "ECONNRESET"
