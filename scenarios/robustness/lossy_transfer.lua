-- 200 kB across a link that loses, duplicates, reorders and corrupts
-- segments. Checksums catch the corruption, retransmission repairs the
-- losses, the receive queue puts reordered segments back in order: the
-- data arrives intact, and the connection still closes cleanly.
-- known-failure linux bsd: segments carry 1460 data bytes plus the 12-byte timestamp option, 1512 bytes on a 1500-byte link (RFC 9293 §3.7.1 MUST-16: the send MSS must subtract the options)
local pair = require "pair"
local sim, a, b, link = pair.new {
  seed = 11, delay = "20ms", jitter = "5ms", bandwidth = "10Mbps",
  loss = 0.03, duplicate = 0.02, reorder = 0.05, reorder_delay = "15ms", corrupt = 0.01,
}
local server, client, peer = pair.connect(sim, a, b, 80, { autoread = true })

local data = {}
for i = 1, 4000 do data[i] = string.format("%049d\n", i) end
data = table.concat(data)
client:send(data)
client:close()
sim:run_until(function() return peer.state == "CLOSE_WAIT" end, "10min")
peer:close()
sim:run()

expect(peer):received(data)
expect(#data):equals(200000)
expect(client):contains { "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED" }
expect(peer):contains { "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
expect(client.stats.retransmits):at_least(1)
local ab = link.stats[1]
expect(ab.dropped_loss + ab.corrupted):at_least(1)
