-- a doubling string hits --max-memory
-- command: run {file} --quiet --max-memory 64MiB
-- expect: exit 2
-- expect-error: limit_memory_string.lua:6: memory limit of 64 MiB reached (not enough memory; raise it with 
local s = 'x'
while true do s = s .. s end
