-- The path dies during a connection: every data segment is lost. A
-- retransmits with exponential backoff and gives up after the profile's
-- retry count with ETIMEDOUT. Linux sends no RST when it gives up here
-- (unlike the keepalive case): the link is down anyway.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 13, delay = "20ms", profile = "linux", retries = 5 }
local server, client, peer = pair.connect(sim, a, b, 80)

link:partition()
client:send "lost forever"
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSED" }
expect(client):error "ETIMEDOUT"
expect(client.stats.retransmits):equals(5)
expect(#link:segments { from = a, flags = "RST" }):equals(0)
