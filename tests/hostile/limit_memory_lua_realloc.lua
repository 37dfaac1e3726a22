-- one Lua block resized in place of being made anew: a table's array part grown by realloc to
-- 32 MiB, then shrunk by realloc to 4 MiB by a rehash; the memory the shrink gave back serves the
-- C copies of an 8 MiB note that follow, up to the budget and not one byte past it: the copy
-- that would pass 64 MiB is refused before it is made, and the figures count the table at what
-- it holds after the shrink (a growth or a shrink left uncounted moves both figures)
-- command: run {file} --quiet --max-memory 64MiB
-- expect: exit 2
-- expect-error: limit_memory_lua_realloc.lua:18: memory limit of 64 MiB reached (not enough memory; raise it with --max-memory): Lua held 12 MiB, the simulation 48 MiB
-- expect-held-at-most: 64
-- valgrind: skip memcheck replaces malloc, so the counting allocator never runs and the heap is only sampled (every 10 ms), which these few calls never reach
local sim = tcpsim.new {}
local t = {}
for i = 1, 1 << 21 do t[i] = i end
for i = (1 << 18) + 1, 1 << 21 do t[i] = nil end
t.x = 1
local note = string.rep("x", 8 << 20)
for i = 1, 10 do
  sim:log(note)
end
expect(1):equals(1)
