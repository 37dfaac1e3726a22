-- A crafted datagram larger than the link's MTU is refused, with the way out.
-- expect-exit: 2
-- expect-error: link:inject: a datagram of 2040 bytes does not pass this link's mtu (1500 from A); raise it
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, {})
link:inject { from = a, flags = "ACK", sport = 1000, dport = 80, data = string.rep("x", 2000) }
