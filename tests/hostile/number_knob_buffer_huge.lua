-- a buffer knob above 2^30 octets: the stack offers no window over 2^30
-- (RFC 7323 §2.3, shift 14) and tcp_setopt refuses SO_SNDBUF/SO_RCVBUF
-- above it (TCP_BUF_MAX); the profile knob is refused too, where the host
-- is made, at its line, rather than silently capped
-- command: run {file} --quiet
-- expect: exit 2
-- expect-error: number_knob_buffer_huge.lua:9: sim:host: rcvbuf must be 1..1073741824 octets
local sim = tcpsim.new {}
local a = sim:host { name = "A", profile = "linux", rcvbuf = 4294967295 }
local b = sim:host "B"
sim:link(a, b, { delay = "1ms" })
b:listen(80)
a:connect(b, 80)
sim:run_for "10ms"
