-- a host name of 1 MiB
-- expect: exit 2
-- expect-error: number_host_name_huge.lua:5: sim:host: host name "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn
local sim = tcpsim.new {}
sim:host(string.rep('n', 1 << 20))
