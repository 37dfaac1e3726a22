-- shutdown("rd") on a listener with a connection waiting in its accept queue.
--
-- RFC 9293 defines no half-close of a listener; each profile answers as
-- its source does (knob listen_shutdown):
-- * rfc9293: taken as CLOSE in LISTEN (§3.10.4): "Delete TCB, enter CLOSED
--   state". The connection no one accepted is aborted (§3.10.5 ABORT in
--   ESTABLISHED: <SEQ=SND.NXT><CTL=RST>); the client reads ECONNRESET.
-- * linux: inet_shutdown on a listener calls tcp_disconnect, which stops it
--   (inet_csk_listen_stop): each queued child is forgotten and reset
--   (inet_child_forget -> tcp_disconnect -> tcp_send_active_reset, RST,ACK);
--   shutdown returns 0 and the client reads ECONNRESET.
-- * bsd: soshutdown: a listener is not connected, so ENOTCONN, and for
--   SHUT_RD "so->so_error = ECONNABORTED"; it keeps listening. The next
--   accept() fails once with ECONNABORTED (solisten_dequeue returns and
--   clears so_error); the one after returns the queued connection, which
--   works as any other.
-- Under tcpsim kernel the host rule picks B, so Linux itself plays the
-- listener that shutdown() stops (docs/kernel.md).
local pair = require "pair"
local sim, a, b = pair.new { seed = 13, delay = "10ms" }
local listener = b:listen(80)
local client = a:connect(b, 80)
sim:run_for "100ms" -- the handshake is done; the connection waits in B's queue
expect(client):state "ESTABLISHED"

local ok, err = pcall(listener.shutdown, listener, "rd")
if sim.profile ~= "bsd" then
  expect(ok):holds "shutdown(SHUT_RD) on the listener returns 0"
  expect(listener):state "CLOSED"
  sim:run_for "100ms"
  expect(client):state "CLOSED"
  expect(client.error):equals "ECONNRESET"
  return
end

expect(not ok and tostring(err):find("ENOTCONN", 1, true) ~= nil):holds "bsd: ENOTCONN"
expect(listener):state "LISTEN"
local ok2, err2 = pcall(listener.accept, listener)
expect(not ok2 and tostring(err2):find("ECONNABORTED", 1, true) ~= nil):holds
  "bsd: the next accept() fails with ECONNABORTED"
local server = listener:accept()
expect(server ~= nil):holds "bsd: the accept() after it returns the queued connection"
expect(server):state "ESTABLISHED"
client:send "hello"
sim:run_for "100ms"
expect(server):received "hello"
-- so_error is read once: a later connection is accepted without error
local client2 = a:connect(b, 80)
local server2 = listener:accept_wait "1s"
expect(server2):state "ESTABLISHED"
expect(client2):state "ESTABLISHED"
