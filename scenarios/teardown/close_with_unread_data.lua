-- Closing a socket that still holds unread received data. RFC 2525 §2.17
-- and Linux send an RST (the peer learns its data was not read) instead of
-- a FIN; the linux profile does this. The peer sees "connection reset".
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 9, delay = "20ms", profile = "linux" }
local server, client, peer = pair.connect(sim, a, b, 80)

client:send "a request nobody reads"
sim:run_for "1s"
peer:close() -- B never read the request
sim:run()

expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSED" }
expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSED" }
expect(client):error "ECONNRESET"
expect(#link:segments { from = b, flags = "RST" }):equals(1)
