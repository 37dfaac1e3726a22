-- a socket option out of the stack's range names the option, the value and
-- the range at the scenario's line (not a bare EINVAL)
-- expect: exit 2
-- expect-error: options_rcvbuf_out_of_range.lua:7: host:listen: rcvbuf must be in [1,1073741824], got 4294967295
local sim = tcpsim.new {}
local a = sim:host "A"
a:listen(80, { rcvbuf = 2 ^ 32 - 1 })
