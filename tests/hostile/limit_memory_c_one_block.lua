-- one C block larger than what is left of the budget (a 20 MiB copy of a note, with 20 MiB of Lua
-- string and 40 MiB of earlier copies held under a 64 MiB budget) is refused before it is made: the
-- run ends with the memory-limit error at the line that asked for it, and both figures of the error
-- stay within the budget (granted first, the block took the run to 80 MiB); a trace an earlier run
-- left under the output's name is removed, as on every failed run
-- command: run {file} --quiet --max-memory 64MiB --trace-out {tmp}/t.json
-- stale: {tmp}/t.json
-- expect: exit 2
-- expect-error: limit_memory_c_one_block.lua:15: memory limit of 64 MiB reached (not enough memory; raise it with --max-memory): Lua held 20 MiB, the simulation 40 MiB
-- expect-held-at-most: 64
-- valgrind: skip memcheck replaces malloc, so the counting allocator never runs and the heap is only sampled (every 10 ms), which these three calls never reach
local sim = tcpsim.new {}
local note = string.rep("x", 20 << 20)
for i = 1, 3 do
  sim:log(note)
end
expect(1):equals(1)
