-- an ephemeral range given upside down (port_lo above port_hi) holds no port: Linux refuses
-- such an ip_local_port_range when it is set, so the host is refused where it is made, at its
-- line, instead of every later connect failing
-- command: run {file} --quiet
-- expect: exit 2
-- expect-error: limit_ephemeral_ports_reversed.lua:8: sim:host: port_lo (60000) is above port_hi (50000): the ephemeral range holds no port
local sim = tcpsim.new {}
local a = sim:host { name = "A", port_lo = 60000, port_hi = 50000 }
local b = sim:host "B"
sim:link(a, b, { delay = "1ms" })
b:listen(80)
a:connect(b, 80)
sim:run_for "10ms"
