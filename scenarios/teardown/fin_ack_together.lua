-- A's FIN reaches B, which closes at once: B's ACK of A's FIN and B's own
-- FIN travel in one segment (FIN,ACK). A, in FIN_WAIT_1, processes the ACK
-- step (its FIN is acknowledged: FIN_WAIT_2) and then the FIN step of the
-- same segment (TIME_WAIT), RFC 9293 §3.10.7.4. The trace shows both
-- transitions at the same instant.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 2, delay = "50ms" }
local server, client, peer = pair.connect(sim, a, b, 80)

peer:on_state(function(sock, from, to)
  if to == "CLOSE_WAIT" then sock:close() end
end)
client:close()
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED" }
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
local steps = client.steps
expect(steps[5].time):equals(steps[6].time) -- FIN_WAIT_2 and TIME_WAIT: one segment
expect(#link:segments { from = b, flags = "FIN" }):equals(1)
