-- An abortive close (SO_LINGER with a zero timeout, RFC 9293 §3.10.5
-- ABORT): A sends an RST instead of a FIN and goes straight to CLOSED, with
-- no TIME_WAIT; B, on the RST, goes to CLOSED with "connection reset".
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 8, delay = "20ms" }
local server, client, peer = pair.connect(sim, a, b, 80)

client:setopt { linger0 = true }
client:close()
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSED" }
expect(client):never "TIME_WAIT"
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSED" }
expect(peer):error "ECONNRESET"
expect(#link:segments { from = a, flags = "FIN" }):equals(0)
expect(#link:segments { from = a, flags = "RST" }):equals(1)
