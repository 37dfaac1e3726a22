-- hosts are C memory too: a scenario making hosts without end is stopped by the memory budget, at
-- the line that made the host past it
-- command: run {file} --quiet --max-memory 16MiB
-- expect: exit 2
-- expect-error: limit_memory_c_hosts.lua:9: memory limit of 16 MiB reached (not enough memory; raise it with --max-memory): Lua held
-- expect-held-at-most: 16
local sim = tcpsim.new {}
for i = 1, 1000000 do
  sim:host("H" .. i)
end
expect(1):equals(1)
