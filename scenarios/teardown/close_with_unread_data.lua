-- Closing a socket that still holds unread received data. RFC 9293 §3.6
-- (SHOULD, from RFC 1122 §4.2.2.13), RFC 2525 §2.17 and Linux (tcp_close,
-- "data_was_unread") send an RST, so the peer learns its data was not read;
-- the peer sees "connection reset". FreeBSD flushes the unread data and
-- closes with a FIN (tcp_disconnect: sbflush, then tcp_usrclosed).
local pair = require "pair"
local E = require "expected"
local sim, a, b, link = pair.new { seed = 9, delay = "20ms" }
local server, client, peer = pair.connect(sim, a, b, 80)

client:send "a request nobody reads"
sim:run_for "1s"
peer:close() -- B never read the request
sim:run_for "1s"

if E.rst_on_close_with_unread[sim.profile] then
  expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSED" }
  expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSED" }
  expect(client):error "ECONNRESET"
  expect(#link:segments { from = b, flags = "RST" }):equals(1)
  expect(#link:segments { from = b, flags = "FIN" }):equals(0)
else
  expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2" }
  expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "CLOSE_WAIT" }
  expect(client):error(nil)
  expect(#link:segments { from = b, flags = "RST" }):equals(0)
  expect(#link:segments { from = b, flags = "FIN" }):equals(1)
end
