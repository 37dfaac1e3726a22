-- thousands of hosts are made or refused cleanly
-- expect: exit 0
local sim = tcpsim.new {}
for i = 1, 5000 do sim:host('H' .. i) end
expect(1):equals(1)
