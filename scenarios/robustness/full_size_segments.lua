-- Full-size segments across a 1500-byte link with timestamps on (linux
-- profile). RFC 9293 §3.7.1 (MUST-16): the effective send MSS is
-- min(SendMSS + 20, MMS_S) - TCPhdrsize - IPoptionsize, and TCPhdrsize
-- includes the options sent. Every data segment carries the 12-byte
-- timestamp option (RFC 7323 §3.2), so with an MSS of 1460 each segment
-- holds 1448 data bytes (Linux tcp_current_mss, FreeBSD tcp_output): a
-- 20 + 32 + 1448 = 1500-byte datagram, which the link carries. 100 kB
-- arrive whole; nothing is dropped for its size. (Run under the rfc9293
-- profile, which sends no timestamps, the segments hold 1460 bytes.)
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 2, profile = "linux", delay = "5ms", mtu = 1500 }
local server, client, peer = pair.connect(sim, a, b, 80, { autoread = true })

local data = string.rep("full-size segments ", 6000):sub(1, 100000)
client:send(data)
client:close()
sim:run_for "30s"

expect(peer):received(data)
expect(link.stats["A>B"].dropped_mtu):equals(0)
local largest = 0
for _, s in ipairs(link:segments { from = a }) do
  if s.len > largest then largest = s.len end
end
expect(largest):equals(sim.profile == "rfc9293" and 1460 or 1448)
expect(client.stats.retransmits):equals(0)
