-- checks: 32
-- sock.iss, irs, snd_una, snd_nxt, snd_max, rcv_nxt, snd_wnd, rcv_wnd with
-- chosen ISNs. Expected values from RFC 9293: OPEN sets SND.UNA = ISS and
-- SND.NXT = ISS+1 (§3.10.1); the SYN,ACK sets IRS and RCV.NXT = IRS+1 and
-- moves SND.UNA to SEG.ACK (§3.10.7.3); SND.WND is the peer's SEG.WND
-- (§3.10.7.4); data acknowledged moves SND.UNA and RCV.NXT (§3.10.7.4).
-- Windows: the rfc9293 profile's receive buffer is 65535 bytes, no scaling.
local sim = tcpsim.new { seed = 1, profile = "rfc9293" }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80, { isn = 5000 })
local client = a:connect(b, 80, { isn = 1000, mss = 1000 })

-- LISTEN: no variable means anything yet.
expect(server.iss):equals(nil)
expect(server.rcv_nxt):equals(nil)
-- SYN_SENT.
expect(client.iss):equals(1000)
expect(client.snd_una):equals(1000)
expect(client.snd_nxt):equals(1001)
expect(client.snd_max):equals(1001)
expect(client.irs):equals(nil)
expect(client.rcv_nxt):equals(nil)
expect(client.snd_wnd):equals(nil)

local peer = server:accept_wait()
expect(client.irs):equals(5000)
expect(client.rcv_nxt):equals(5001)
expect(client.snd_una):equals(1001)
expect(peer.iss):equals(5000)
expect(peer.irs):equals(1000)
expect(peer.rcv_nxt):equals(1001)
expect(peer.snd_una):equals(5001)
expect(peer.rcv_wnd):equals(65535)
expect(client.snd_wnd):equals(peer.rcv_wnd)

-- 3000 bytes, the first segment lost: after the retransmission timeout
-- only SND.NXT may fall back; SND.MAX stays the highest sent.
link:drop_next { from = a, seq = 1001 }
client:send(3000)
sim:run_until(function() return #link:segments { from = a, seq = 1001, len = 1000 } == 2 end)
expect(client.snd_una):equals(1001)
expect(client.snd_max):equals(4001)
expect(client.snd_nxt > client.snd_una and client.snd_nxt <= client.snd_max)
  :holds "SND.UNA < SND.NXT <= SND.MAX"
sim:run_for "2s"
expect(client.snd_una):equals(4001)
expect(client.snd_nxt):equals(4001)
expect(client.snd_max):equals(4001)
expect(peer.rcv_nxt):equals(4001)
-- 3000 bytes held unread take 3000 bytes of window, on both sides.
expect(peer.rcv_wnd):equals(65535 - 3000)
expect(client.snd_wnd):equals(65535 - 3000)
expect(peer:recv()):equals(string.rep("abcdefghijklmnopqrstuvwxyz", 116):sub(1, 3000))

-- Once the connection is gone the variables read nil.
client:abort()
sim:run_for "1s"
expect(client.snd_nxt):equals(nil)
expect(peer.state):equals "CLOSED"
expect(peer.rcv_nxt):equals(nil)
expect(server.snd_una):equals(nil)
