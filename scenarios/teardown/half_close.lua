-- Half-close (RFC 9293 §3.6): A shuts down its sending side; B, in
-- CLOSE_WAIT, may go on sending, and A (in FIN_WAIT_2) goes on receiving.
-- Only when B closes too does the connection finish.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 6, delay = "20ms" }
local server, client, peer = pair.connect(sim, a, b, 80)

client:shutdown()
sim:run_for "1s"
expect(peer):state "CLOSE_WAIT"
peer:send "data sent after the peer's FIN"
sim:run_for "1s"
expect(client):received "data sent after the peer's FIN"
peer:close()
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED" }
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
