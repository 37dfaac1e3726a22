-- A raw peer's expectation that does not hold: the SYN,ACK acknowledges the
-- SYN only (RFC 9293 §3.10.7.2: <ACK=RCV.NXT>, RCV.NXT = SEG.SEQ+1), not 2.
-- The error names the line and shows both segments in one notation.
-- expect-exit: 2
-- expect-error: peer:expect: ack mismatch: expected 0.020000 > S. 0:0(0) ack 2 <...>, actual 0.020000 > S. 0:0(0) ack 1 win
local sim = tcpsim.new {}
local a = sim:host "A"
local peer = sim:raw_peer(a, { delay = "10ms" })
a:listen(8080)
peer:send "0 S 0:0(0) win 65535 <mss 1460>"
peer:expect "0.020 S. 0:0(0) ack 2 <...>"
