-- listen on port 0
-- expect: exit 2
-- expect-error: number_port_zero.lua:7: host:listen: port must be in [1,65535], got 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
b:listen(0)
