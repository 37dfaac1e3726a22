-- A malformed segment line: the parser's message, with the line quoted.
-- expect-exit: 2
-- expect-error: peer:send: inconsistent sequence range 0:5(0): end must be start + length in "S 0:5(0) win 100"
local sim = tcpsim.new {}
local a = sim:host "A"
local peer = sim:raw_peer(a)
peer:send "S 0:5(0) win 100"
