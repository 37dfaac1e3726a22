-- connect to port 70000
-- expect: exit 2
-- expect-error: number_port_huge.lua:7: host:connect: port must be in [1,65535], got 70000
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
a:connect(b, 70000)
