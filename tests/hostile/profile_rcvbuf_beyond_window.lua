-- a receive buffer the knob takes (any 32-bit count) but no window can
-- offer: 4 GiB - 1 octets, all of it offered (rcv_win_ratio 256). RFC 7323
-- §2.3 caps the window at 2^30 (shift 14), and sequence arithmetic needs
-- windows under 2^31 (RFC 9293 §3.4), so the receive space is at most
-- 2^30 whatever the buffer; a bulk transfer arrives whole, with the
-- invariant checker on. (The room for data past RCV.NXT, the space plus
-- one unit of the scale, wrapped to 16 kB here: every segment past the
-- first 16 kB unread was dropped and the transfer stalled.)
-- command: run {file} --quiet --check
-- expect: exit 0
local sim = tcpsim.new { seed = 1 }
local a = sim:host { name = "A", profile = "linux" }
local b = sim:host { name = "B", profile = "linux", rcvbuf = 4294967295, rcvbuf_max = 4294967295,
                     rcv_win_ratio = 256, scaling_ratio = 256 }
sim:link(a, b, { delay = "1ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
sim:run_for "10ms"
local peer = server:accept()
local data = string.rep("beyond the window ", 20000)
client:send(data)
sim:run_for "5s"
expect(#peer:recv(#data)):equals(#data)
expect(client.stats.retransmits):equals(0)
