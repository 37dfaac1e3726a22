-- the largest receive buffer the knob takes, all of it offered
-- (rcv_win_ratio 256): 2^30 octets, the most a window can offer (RFC 7323
-- §2.3: shift 14; sequence arithmetic needs windows under 2^31, RFC 9293
-- §3.4). A larger buffer is refused (number_knob_buffer_huge.lua); the
-- stack still caps the receive space at 2^30 for a profile made in C. A
-- bulk transfer arrives whole, with the invariant checker on. (The room
-- for data past RCV.NXT, the space plus one unit of the scale, once
-- wrapped with a 4 GiB - 1 buffer: every segment past the first 16 kB
-- unread was dropped and the transfer stalled.)
-- command: run {file} --quiet --check
-- expect: exit 0
local sim = tcpsim.new { seed = 1 }
local a = sim:host { name = "A", profile = "linux" }
local b = sim:host { name = "B", profile = "linux", rcvbuf = 1073741824, rcvbuf_max = 1073741824,
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
