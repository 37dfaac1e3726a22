-- The path dies during a connection: every data segment is lost. A
-- retransmits with exponential backoff and gives up after the profile's
-- retry count with ETIMEDOUT. Linux sends no RST when it gives up here
-- (unlike the keepalive case): the link is down anyway. The first
-- retransmission is Linux's tail loss probe (RFC 8985 §7,
-- tcp_send_loss_probe): its timeout, 2·SRTT + 200 ms with one segment out,
-- is capped at the RTO, so it goes when the RTO would and the RTO restarts
-- from it; then the five RTO retransmissions (five in all elsewhere).
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 13, delay = "20ms", profile = "linux", retries = 5 }
local server, client, peer = pair.connect(sim, a, b, 80)

link:partition()
client:send "lost forever"
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSED" }
expect(client):error "ETIMEDOUT"
-- (a loss probe only where the profile has tlp: linux)
expect(client.stats.retransmits):equals(sim.profile == "linux" and 6 or 5)
expect(#link:segments { from = a, flags = "RST" }):equals(0)

-- kernel-host: A (tcpsim kernel, docs/kernel.md: Linux plays A, which
-- gives up after tcp_retries2 (the retries knob); B's connection would
-- stay ESTABLISHED, so sim:run would never end)
