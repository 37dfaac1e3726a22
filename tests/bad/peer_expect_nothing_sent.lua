-- A raw peer expects a FIN from a connection nobody closes: the wait ends
-- at the expected time plus the tolerance (4 ms) with nothing sent.
-- expect-exit: 2
-- expect-error: peer:expect: expected segment not sent: expected 0.500000 > F. 1:1(0) ack 1, actual: none by 0.504000
local sim = tcpsim.new {}
local a = sim:host "A"
local peer = sim:raw_peer(a, { delay = "10ms" })
a:listen(8080)
peer:send "0 S 0:0(0) win 65535 <mss 1460>"
peer:expect "S. 0:0(0) ack 1 <...>"
peer:send ". 1:1(0) ack 1 win 65535"
peer:expect "0.5 F. 1:1(0) ack 1"
