-- a million empty notes: the run log's arrays of entries grow by doubling, and the doubling that
-- would pass the 48 MiB budget (to 92 MiB, granted) is refused before it is made; the run ends with
-- the memory-limit error at the loop's line, both figures within the budget
-- command: run {file} --quiet --max-memory 48MiB
-- expect: exit 2
-- expect-error: limit_memory_c_doubling.lua:10: memory limit of 48 MiB reached (not enough memory; raise it with --max-memory): Lua held
-- expect-held-at-most: 48
-- valgrind: skip memcheck replaces malloc, so the counting allocator never runs and the heap is only sampled (every 10 ms)
local sim = tcpsim.new {}
for i = 1, 1000000 do sim:log("") end
expect(1):equals(1)
