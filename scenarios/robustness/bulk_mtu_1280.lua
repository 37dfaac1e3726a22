-- Bulk data: 1 MB from A to B over a lossy (2 %), reordering link with a 1280-byte MTU (the IPv6 minimum), then both ends close. Every byte
-- must arrive exactly once and in order, under every profile. Each host
-- advertises and uses an MSS of MTU - 40 = 1240 (RFC 9293 §3.7.1), and
-- sends data segments of that size less the options it puts on every
-- segment: 1240 bytes in RFC 9293, 1228 with the timestamp option
-- Linux and FreeBSD send (12 bytes, RFC 7323). Losses are repaired by fast
-- retransmit and RTO (RFC 5681, RFC 6298), reordered segments are put back
-- in order by the receiver (RFC 9293 §3.10.7.4).
-- known-failure linux bsd: segments carry MTU - 40 data bytes plus the 12-byte timestamp option, 12 bytes over the link MTU (RFC 9293 §3.7.1 MUST-16: the send MSS must subtract the options)
local bulk = require "bulk"
bulk.run { seed = 31, mtu = 1280, loss = 0.02, reorder = 0.05, }
