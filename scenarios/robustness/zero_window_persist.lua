-- Zero window and the persist timer (RFC 9293 §3.8.6.1, RFC 1122
-- §4.2.2.17).
--
-- B's receive buffer holds 4096 bytes and B's application does not read.
-- A has 10000 bytes to send: once B's buffer is full B advertises a window
-- of 0 and A must stop. Window updates are bare ACKs and are not
-- retransmitted, so if one were lost both ends would wait for ever; the
-- sender therefore probes the zero window periodically (persist timer).
-- The connection must stay open as long as the probes are answered, even
-- for a long time. When B's application finally reads, B reopens the
-- window and the rest of the data flows; everything arrives intact.
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 11, delay = "10ms" }

local server = b:listen(80, { rcvbuf = 4096 })
local client = a:connect(b, 80)
local peer = server:accept_wait "10s"

local parts = {}
for i = 1, 1000 do parts[i] = string.format("%09d\n", i) end
local data = table.concat(parts)   -- 10000 bytes
expect(#data):equals(10000)
client:send(data)

-- leave B's buffer full for a while (well past several RTOs)
sim:run_for "30s"
local zero = link:segments { from = b }
local saw_zero = false
for _, s in ipairs(zero) do if s.win == 0 then saw_zero = true end end
expect(saw_zero):holds "B advertised a zero window"
expect(client.stats.persist_probes):at_least(1)
expect(client.stats.bytes_out):at_most(4096 + client.stats.persist_probes)
expect(client):state "ESTABLISHED"
expect(peer):state "ESTABLISHED"

-- now B's application drains what arrives
local got = 0
sim:run_until(function()
  local chunk = peer:recv()
  if chunk then got = got + #chunk end
  return got >= #data
end, "1min")
sim:run_for "1s"
expect(peer):received(data)
expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED" }
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED" }
expect(client):error(nil)
