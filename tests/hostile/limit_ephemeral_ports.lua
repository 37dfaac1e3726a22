-- one host connects 70,000 times to one server: past the ephemeral port range, connect fails at
-- once with a clear error at its line (choosing a port is O(1), so the run ends in well under its
-- wall-clock limit instead of taking minutes)
-- command: run {file} --quiet --max-wall 20s
-- expect: exit 2
-- expect-error: limit_ephemeral_ports.lua:12: host:connect: ephemeral ports exhausted (EADDRNOTAVAIL): host A has all 16384 ports of its range 49152..65535 in use
-- valgrind: skip the case is about speed: 70,000 connects within its own 20 s wall-clock limit, which memcheck slows past
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "1ms" })
b:listen(80)
for i = 1, 70000 do a:connect(b, 80) end
expect(1):equals(1)
