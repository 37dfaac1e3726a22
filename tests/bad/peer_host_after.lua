-- Stack hosts are made before raw peers (a host's index is its id in the
-- run log).
-- expect-exit: 2
-- expect-error: sim:host: stack host B must be added before every raw peer
local sim = tcpsim.new {}
local a = sim:host "A"
local peer = sim:raw_peer(a)
local b = sim:host "B"
