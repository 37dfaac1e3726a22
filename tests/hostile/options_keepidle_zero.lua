-- a keepalive idle time of zero is refused by name, with the range in
-- nanoseconds, at the scenario's line
-- expect: exit 2
-- expect-error: options_keepidle_zero.lua:9: host:connect: keepidle must be in [1,4611686018427387903] ns, got 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "1ms" })
b:listen(80)
a:connect(b, 80, { keepidle = 0 })
