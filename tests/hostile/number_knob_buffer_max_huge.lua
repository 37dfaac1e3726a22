-- the largest receive buffer (rcvbuf_max, which sets the window scale)
-- above 2^30 octets, given to every host: refused at the line of
-- tcpsim.new, as rcvbuf is (TCP_BUF_MAX; RFC 7323 §2.3)
-- command: run {file} --quiet
-- expect: exit 2
-- expect-error: number_knob_buffer_max_huge.lua:7: tcpsim.new: rcvbuf_max must be 0..1073741824 octets
local sim = tcpsim.new { rcvbuf_max = 1073741825 }
sim:host "A"
