-- A FIN far beyond the receive window, sent by a raw peer (a second stack
-- never sends past the window its peer offered).
--
-- RFC 9293 §3.10.7.4, first ("check sequence number"): in a synchronized
-- state a segment whose sequence number is not in the receive window is
-- unacceptable: "an acknowledgment should be sent in reply (unless the RST
-- bit is set) ... <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>", and the segment is
-- dropped, its FIN with it: the connection stays ESTABLISHED (no
-- CLOSE_WAIT). The FIN at RCV.NXT is then taken (§3.10.7.4, eighth).
-- Linux: tcp_validate_incoming, !tcp_sequence: tcp_send_dupack, the segment
-- is discarded.
local sim = tcpsim.new { seed = 8 }
local a = sim:host "A"
local peer = sim:raw_peer(a, { delay = "10ms" })
local listener = a:listen(8080)

-- no window scale offered: the window is at most 65535
peer:send "0.000 S 0:0(0) win 65535 <mss 1460>"
peer:expect "S. 0:0(0) ack 1 <...>"
peer:send ". 1:1(0) ack 1 win 65535"
local server = listener:accept_wait "1s"

peer:send "+0.1 F. 200001:200001(0) ack 1 win 65535"
peer:expect "+0.02 . 1:1(0) ack 1"
peer:expect_none "1s"
expect(server):state "ESTABLISHED"

-- the same FIN in sequence closes the peer's side
peer:send "+0 F. 1:1(0) ack 1 win 65535"
peer:expect ". 1:1(0) ack 2"
expect(server):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT" }
