-- hosts are C memory too: a scenario making hosts without end is stopped by the memory budget, at
-- the line that made the host past it
-- command: run {file} --quiet --max-memory 16MiB
-- expect: exit 2
-- expect-error: limit_memory_c_hosts.lua:10: memory limit of 16 MiB reached (not enough memory; raise it with --max-memory): Lua held
-- expect-held-at-most: 16
-- valgrind: skip memcheck bypasses the counting allocator and the heap is sampled every 10 ms, so the stop falls on the loop's line or the host's, whichever runs when a sample is taken
local sim = tcpsim.new {}
for i = 1, 1000000 do
  sim:host("H" .. i)
end
expect(1):equals(1)
