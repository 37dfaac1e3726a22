-- A segment to send must say the window it advertises, as in packetdrill.
-- expect-exit: 2
-- expect-error: peer:send: inbound segment needs 'win N' (the window it advertises)
local sim = tcpsim.new {}
local a = sim:host "A"
local peer = sim:raw_peer(a)
peer:send "S 0:0(0)"
