-- Lua memory runs out inside a timer callback: the error names the callback's line (Lua calls no
-- message handler for memory errors, so the line is taken where the allocation was refused)
-- command: run {file} --quiet --max-memory 16MiB
-- expect: exit 2
-- expect-error: limit_memory_in_timer.lua:11: memory limit of 16 MiB reached (not enough memory
-- expect-held-at-most: 16
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
local t = {}
sim:after("5ms", function() for i = 1, 1e9 do t[i] = { i } end end)
sim:run_for "1s"
expect(1):equals(1)
