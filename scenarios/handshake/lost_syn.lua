-- The first SYN is lost. A retransmits it when the retransmission timer
-- expires: RFC 6298 §2.1 sets the initial RTO to 1 s, so the second SYN
-- leaves at t = 1 s and the handshake completes one round trip later
-- (under the linux profile at 1.024 s: Linux's timer wheel at HZ 250 puts
-- the 250 jiffies armed at jiffy 0 in level 1, fired at the next multiple
-- of 8 jiffies after 250: jiffy 256; scenarios/lib/expected.lua E.timer).
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "50ms" })
link:drop_next { from = a, flags = "SYN" }

local server = b:listen(80)
local client = a:connect(b, 80)
sim:run_for "3s"

expect(client):trace { "CLOSED", "SYN_SENT", "ESTABLISHED" }
expect(link):exchange { "A>B SYN X", "A>B SYN", "B>A SYN,ACK", "A>B ACK" }
local again = sim.duration(sim.profile == "linux" and "1024ms" or "1s")
expect(client):entered("ESTABLISHED", tcpsim.ns(again + sim.duration "100ms"))
local syns = link:segments { from = a, flags = "SYN" }
expect(#syns):equals(2)
expect(syns[2].sent - syns[1].sent):equals(again)
expect(syns[2].seq):equals(syns[1].seq) -- a retransmission reuses the ISN
expect(client.stats.retransmits):equals(1)
