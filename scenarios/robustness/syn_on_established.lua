-- A SYN arriving on an ESTABLISHED connection, sent by a raw peer (a second
-- stack never sends a SYN on a connection it has open).
--
-- RFC 9293 §3.10.7.4, fourth ("check the SYN bit"), for a synchronized
-- state: if the SYN bit is set, irrespective of the sequence number, the
-- TCP endpoint MUST send a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
-- and drop the segment (RFC 5961 §4.2); the connection stays ESTABLISHED,
-- and data that follows in sequence is still accepted.
-- Linux: tcp_validate_incoming, step 4, sends the challenge ACK
-- (tcp_send_challenge_ack) and drops the SYN.
local sim = tcpsim.new { seed = 4 }
local a = sim:host "A"
local peer = sim:raw_peer(a, { delay = "10ms" })
local listener = a:listen(8080, { autoread = true })

peer:send "0.000 S 0:0(0) win 65535 <mss 1460>"
peer:expect "S. 0:0(0) ack 1 <...>"
peer:send ". 1:1(0) ack 1 win 65535"
local server = listener:accept_wait "1s"

-- a new SYN with another ISN, inside the receive window
peer:send "+0.1 S 500:500(0) win 65535 <mss 1460>"
peer:expect "+0.02 . 1:1(0) ack 1"
expect(server):state "ESTABLISHED"
expect(server.stats.challenge_acks):equals(1)

-- the connection goes on: 100 bytes in sequence are acknowledged
peer:send { time = "+1", flags = "P.", data = string.rep("x", 100) }
peer:expect ". 1:1(0) ack 101"
sim:run_for "1s"
expect(server):received(string.rep("x", 100))
expect(server):trace { "SYN_RECEIVED", "ESTABLISHED" }
