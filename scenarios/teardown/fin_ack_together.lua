-- One segment, two transitions (RFC 9293 §3.10.7.4). A closes; B closes as
-- soon as it sees A's FIN. B's bare ACK of A's FIN is lost, so the segment
-- that first acknowledges A's FIN is B's own FIN,ACK. A, in FIN_WAIT_1,
-- processes the ACK step of that segment (its FIN is acknowledged:
-- FIN_WAIT_2) and then the FIN step (TIME_WAIT): both transitions appear in
-- the trace at the same instant, with the same cause.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 2, delay = "50ms" }
local server, client, peer = pair.connect(sim, a, b, 80)

peer:on_state(function(sock, from, to)
  if to == "CLOSE_WAIT" then sock:close() end
end)
link:drop_next { from = b, flags = "ACK", exact = true, len = 0,
                 when = function() return client.state == "FIN_WAIT_1" end }
client:close()
sim:run()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED" }
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
local steps = client.steps
expect(steps[5].time):equals(steps[6].time) -- FIN_WAIT_2 and TIME_WAIT: one segment
expect(steps[5].cause):equals("segment")
expect(steps[6].cause):equals("segment")
local finack = link:last { from = b, flags = "FIN,ACK" }
expect(steps[5].time):equals(finack.arrived)
if sim.profile == "linux" then
  -- Linux schedules the ACK of a bare FIN for the next timer tick
  -- (tcp_send_delayed_ack with an ATO of 0; the timer wheel, timer_hz): B's
  -- close() at the same instant sends one FIN,ACK that carries it, so
  -- there is no bare ACK to lose, and the trace is the same.
  expect(link):saw { "A>B FIN,ACK", "B>A FIN,ACK", "A>B ACK" }
else
  expect(link):saw { "A>B FIN,ACK", "B>A ACK X", "B>A FIN,ACK", "A>B ACK" }
end
