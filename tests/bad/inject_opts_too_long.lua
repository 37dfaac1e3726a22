-- TCP options past the 40 bytes a TCP header holds (RFC 9293 §3.1).
-- expect-exit: 2
-- expect-error: link:inject: TCP options take more than 40 bytes
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, {})
link:inject { from = a, flags = "SYN", sport = 1000, dport = 80,
              opts = { ts = { val = 1, ecr = 0 }, sack = { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 } } } }
