-- an msl past 2^63 ns (5,100,000 h: a duration the parser takes, up to
-- 2^64 - 1 ns) is out of the stack's range and named with its own value,
-- not that value read as a signed integer
-- expect: exit 2
-- expect-error: options_msl_past_int64.lua:9: host:listen: msl must be in [0,4611686018427387903] ns, got 18360000000000000000
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "1ms" })
b:listen(80, { msl = "5100000h" })
