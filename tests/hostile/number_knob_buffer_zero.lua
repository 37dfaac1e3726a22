-- a send buffer of 0 octets: no byte could ever be queued; tcp_setopt
-- refuses SO_SNDBUF 0 and the knob is refused too, at its line
-- command: run {file} --quiet
-- expect: exit 2
-- expect-error: number_knob_buffer_zero.lua:7: sim:host: sndbuf must be 1..1073741824 octets (2^30: no window offers more, RFC 7323 §2.3); got 0
local sim = tcpsim.new {}
local a = sim:host { name = "A", sndbuf = 0 }
