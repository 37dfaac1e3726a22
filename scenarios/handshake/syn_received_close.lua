-- Closing in SYN_RECEIVED (RFC 9293 §3.10.4, CLOSE in SYN-RECEIVED: "If no
-- SENDs have been issued and there is no pending data to send, then form
-- a FIN segment and send it, and enter FIN-WAIT-1 state"). Here two hosts
-- open simultaneously and A closes while still in SYN_RECEIVED.
-- FreeBSD (bsd profile) differs: tcp_disconnect() drops a connection not yet
-- ESTABLISHED ("if (tp->t_state < TCPS_ESTABLISHED) tp = tcp_close(tp)")
-- without sending anything, so B's SYN,ACK then finds no connection and is
-- answered with a reset (RFC 9293 §3.10.7.1), which closes B.
local sim = tcpsim.new { seed = 1, msl = "5s" }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "50ms" })

local x = a:connect(b, 6000, { port = 5000 })
local y = b:connect(a, 5000, { port = 6000 })
x:on_state(function(sock, from, to)
  if to == "SYN_RECEIVED" then sock:close() end
end)
y:on_state(function(sock, from, to)
  if to == "CLOSE_WAIT" then sock:close() end
end)
sim:run()

if sim.profile == "bsd" then
  expect(x):trace { "CLOSED", "SYN_SENT", "SYN_RECEIVED", "CLOSED" }
  expect(y):trace { "CLOSED", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "CLOSED" }
  expect(y):error "ECONNRESET"
else
  expect(x):contains { "CLOSED", "SYN_SENT", "SYN_RECEIVED", "FIN_WAIT_1", "TIME_WAIT", "CLOSED" }
  expect(x):never "ESTABLISHED"
  expect(y):trace { "CLOSED", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
end
