-- The right segment at the wrong time: the SYN,ACK arrives one round trip
-- (20 ms) after the SYN, outside 30 ms +- 4 ms.
-- expect-exit: 2
-- expect-error: peer:expect: time mismatch: expected 0.030000 > S. 0:0(0) ack 1 <...>, actual 0.020000 > S. 0:0(0) ack 1
local sim = tcpsim.new {}
local a = sim:host "A"
local peer = sim:raw_peer(a, { delay = "10ms" })
a:listen(8080)
peer:send "0 S 0:0(0) win 65535 <mss 1460>"
peer:expect "0.030 S. 0:0(0) ack 1 <...>"
