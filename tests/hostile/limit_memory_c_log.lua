-- a scenario logging 100 MB of notes fills the run log (C memory, not Lua's): the memory budget
-- covers it, and the run stops with the budget named
-- command: run {file} --quiet --max-memory 24MiB
-- expect: exit 2
-- expect-error: limit_memory_c_log.lua:9: memory limit of 24 MiB reached (not enough memory; raise it with --max-memory): Lua held
-- expect-held-at-most: 24
local sim = tcpsim.new {}
local note = string.rep("x", 1000)
for i = 1, 100000 do sim:log(note) end
expect(1):equals(1)
