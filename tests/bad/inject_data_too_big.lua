-- More data than one IPv4 datagram holds (65535 bytes, RFC 791).
-- expect-exit: 2
-- expect-error: link:inject: data is limited to 65483 bytes with these options (one IPv4 datagram holds 65535 bytes, 52 of them headers), got 65484
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { mtu = 65535 })
link:inject { from = a, flags = "ACK", sport = 1000, dport = 80, opts = "<nop,nop,TS val 1 ecr 2>",
              data = string.rep("x", 65484) }
