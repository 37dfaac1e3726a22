-- A segment overlapping data already received, sent by a raw peer (a
-- second stack resends the same bytes; this one carries other bytes where
-- it overlaps, so the test can see which copy was kept).
--
-- RFC 9293 §3.10.7.4, first ("check sequence number"): a segment that
-- begins before RCV.NXT but holds new data is acceptable; "segments with
-- higher beginning sequence numbers may be held for later processing" and,
-- in the text step (seventh), "if a segment's contents straddle the
-- boundary between old and new, only the new parts are processed". The ACK
-- then covers the new end: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
-- Linux: tcp_data_queue, "partial packet, seq < rcv_next < end_seq":
-- queued from rcv_nxt on (the old part is not copied again); with no SACK
-- negotiated there is no D-SACK block on the ACK.
local sim = tcpsim.new { seed = 7 }
local a = sim:host "A"
local peer = sim:raw_peer(a, { delay = "10ms" })
local listener = a:listen(8080, { autoread = true })

peer:send "0.000 S 0:0(0) win 65535 <mss 1460>"
peer:expect "S. 0:0(0) ack 1 <...>"
peer:send ". 1:1(0) ack 1 win 65535"
local server = listener:accept_wait "1s"

-- bytes 1..100
peer:send { time = "+0.1", flags = "P.", seq = 1, data = string.rep("a", 100) }
peer:expect ". 1:1(0) ack 101"
-- bytes 51..200: the first 50 overlap and differ from what was received
peer:send { time = "+0.5", flags = "P.", seq = 51, data = string.rep("b", 150) }
peer:expect ". 1:1(0) ack 201"
sim:run_for "1s"
-- the old bytes stay; only the new part (101..200) of the second segment is taken
expect(server):received(string.rep("a", 100) .. string.rep("b", 100))
expect(server):state "ESTABLISHED"
