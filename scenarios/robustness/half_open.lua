-- Half-open connection discovery (RFC 9293 §3.5.1, figure "Half-open
-- connection discovery"). B crashes and restarts, forgetting the
-- connection. When A next sends data, B's new stack has no such connection
-- and answers with an RST (§3.10.7.1); A's connection is reset.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 12, delay = "20ms" }
local server, client, peer = pair.connect(sim, a, b, 80)

b:crash()
b:restart()
client:send "anyone there?"
sim:run_for "5s"

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSED" }
expect(client):error "ECONNRESET"
expect(#link:segments { from = b, flags = "RST" }):equals(1)

-- kernel-host: A (tcpsim kernel, docs/kernel.md: Linux plays A, the
-- survivor, which meets the restarted B; a kernel host cannot crash)
