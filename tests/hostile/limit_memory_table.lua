-- a growing table hits --max-memory
-- command: run {file} --quiet --max-memory 64MiB
-- expect: exit 2
-- expect-error: limit_memory_table.lua:6: memory limit of 64 MiB reached (not enough memory; raise it with -
local t = {}
for i = 1, 1e9 do t[i] = {i} end
