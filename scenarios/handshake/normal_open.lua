-- Normal three-way handshake (RFC 9293 §3.5, figure "Basic 3-way handshake").
-- A sends SYN, B answers SYN,ACK, A's ACK completes it: A goes
-- CLOSED -> SYN_SENT -> ESTABLISHED, B's listener stays in LISTEN and the
-- accepted connection goes SYN_RECEIVED -> ESTABLISHED.
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "50ms" })

local server = b:listen(80)
local client = a:connect(b, 80)
sim:run_until(function() return client.state == "ESTABLISHED" end)
sim:run_for "200ms"
local peer = server:accept()

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED" }
expect(peer):trace { "SYN_RECEIVED", "ESTABLISHED" }
expect(server):trace { "CLOSED", "LISTEN" }
expect(link):exchange { "A>B SYN", "B>A SYN,ACK", "A>B ACK" }
-- one round trip for A, one and a half for B
expect(client):entered("ESTABLISHED", "100ms")
expect(peer):entered("ESTABLISHED", "150ms")
