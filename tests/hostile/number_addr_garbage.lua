-- a host address that is no IPv4 address
-- expect: exit 2
-- expect-error: number_addr_garbage.lua:5: sim:host: addr must be a dotted IPv4 address, got '999.1.1.1'
local sim = tcpsim.new {}
sim:host { name = 'A', addr = '999.1.1.1' }
