-- A SYN that carries data, sent by a raw peer (a second stack without Fast
-- Open never puts data on its SYN).
--
-- RFC 9293 §3.10.7.2 (LISTEN, "third check for a SYN"): RCV.NXT is set to
-- SEG.SEQ+1, IRS to SEG.SEQ, and the SYN,ACK is <SEQ=ISS><ACK=RCV.NXT>
-- <CTL=SYN,ACK>: it acknowledges the SYN only; any other control or text is
-- queued for processing later, never acknowledged by the SYN,ACK.
-- Linux without Fast Open: tcp_conn_request answers with tcp_rcv_nxt =
-- seq + 1 and the SYN's data is not kept (tcp_v4_send_synack acks the SYN
-- only). Either way the peer's data is acknowledged once it is sent again
-- after the handshake, and the application reads it exactly once.
local sim = tcpsim.new { seed = 6 }
local a = sim:host "A"
local peer = sim:raw_peer(a, { delay = "10ms" })
local listener = a:listen(8080, { autoread = true })

peer:send { time = "0", flags = "S", seq = 0, win = 65535, opts = "<mss 1460>", data = "0123456789" }
peer:expect "+0.02 S. 0:0(0) ack 1 <...>"
peer:send ". 1:1(0) ack 1 win 65535"
local server = listener:accept_wait "1s"
expect(server):state "ESTABLISHED"

-- the ten bytes again, in sequence after the handshake
peer:send { time = "+0.1", flags = "P.", seq = 1, data = "0123456789" }
peer:expect ". 1:1(0) ack 11"
sim:run_for "1s"
expect(server):received "0123456789"
expect(server):trace { "SYN_RECEIVED", "ESTABLISHED" }
