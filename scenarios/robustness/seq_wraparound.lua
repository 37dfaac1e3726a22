-- Sequence numbers wrap around 2^32 (RFC 9293 §3.4: "all arithmetic
-- dealing with sequence numbers must be performed modulo 2**32").
--
-- A's ISN is 4294967000, 296 below 2^32. The SYN takes one number, so
-- A's data starts at 4294967001 and the 10000 bytes run across the wrap:
-- the last octet has sequence number (4294967001 + 9999) mod 2^32 = 9704,
-- and B's final ACK, RCV.NXT after the FIN, is small again. Comparisons
-- like "SEG.ACK > SND.UNA" must use modular arithmetic or the transfer
-- stalls right at the wrap. The data must arrive intact and in order.
-- known-failure linux bsd: segments carry 1460 data bytes plus the 12-byte timestamp option, 1512 bytes on a 1500-byte link (RFC 9293 §3.7.1 MUST-16: the send MSS must subtract the options)
local pair = require "pair"
local sim, a, b, link = pair.new { seed = 9, delay = "10ms" }
local ISN = 4294967000

local server, client, peer = pair.connect(sim, a, b, 80, { isn = ISN, autoread = true })
expect(link:segments({ from = a, flags = "SYN" })[1].seq):equals(ISN)

local parts = {}
for i = 1, 1000 do parts[i] = string.format("%09d\n", i) end
local data = table.concat(parts)   -- 10000 bytes
client:send(data)
client:close()
sim:run_until(function() return peer.state == "CLOSE_WAIT" end, "1min")
peer:close()
sim:run_for "5s"

expect(peer):received(data)
-- data segments from A: the first starts just after the ISN, a later one
-- starts after the wrap
local segs = link:segments { from = a }
local first, wrapped = nil, false
for _, s in ipairs(segs) do
  if s.len > 0 then
    first = first or s
    if s.seq < ISN then wrapped = true end
  end
end
expect(first.seq):equals(ISN + 1)
expect(wrapped):holds "some data segments were numbered after the wrap"
-- A's FIN sits right after the last data octet: (ISN + 1 + 10000) mod 2^32
local fin = link:last { from = a, flags = "FIN" }
expect(fin ~= nil):holds "A sent its FIN"
if not fin then return end
expect(fin.seq + fin.len):equals((ISN + 1 + 10000) & 0xffffffff)
-- B acknowledges the FIN: one more
expect(link:last({ from = b, flags = "ACK" }).ack):equals((ISN + 1 + 10000 + 1) & 0xffffffff)
expect(client.stats.retransmits):equals(0)
expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT" }
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED" }
