-- A relative ack before the stack has sent any SYN cannot be mapped.
-- expect-exit: 2
-- expect-error: peer:send: the stack's ISN is not known yet
local sim = tcpsim.new {}
local a = sim:host "A"
local peer = sim:raw_peer(a)
peer:send ". 1:1(0) ack 1 win 100"
