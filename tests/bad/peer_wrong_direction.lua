-- peer:expect takes what the stack sends ('>'), peer:send what the peer sends.
-- expect-exit: 2
-- expect-error: peer:expect: expected a segment the stack sends ('>'), got '<'
local sim = tcpsim.new {}
local a = sim:host "A"
local peer = sim:raw_peer(a)
peer:expect "< S 0:0(0) win 100"
