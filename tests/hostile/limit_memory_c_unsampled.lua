-- 400 MB of notes logged in 400 calls: the run log is C memory, and the loop runs too few Lua
-- instructions for a count hook to fire, so a budget that only samples the heap never sees it; the
-- budget counts every C block, and the call that passes it stops the run, with both figures within
-- the budget
-- command: run {file} --quiet --max-memory 32MiB
-- expect: exit 2
-- expect-error: limit_memory_c_unsampled.lua:12: memory limit of 32 MiB reached (not enough memory; raise it with --max-memory): Lua held
-- expect-held-at-most: 32
-- valgrind: skip memcheck replaces malloc, so the counting allocator never runs and the heap is only sampled (every 10 ms), which this loop never reaches
local sim = tcpsim.new {}
local note = string.rep("x", 1 << 20)
for i = 1, 400 do sim:log(note) end
expect(1):equals(1)
