-- the memory budget runs out inside socket:on_state: 600 connections are made first, then Lua's
-- part of the budget is filled with small blocks until one is refused (the error caught), so
-- setting the callbacks (a pin for each handle, a table of them every 256) finds no room; the run
-- ends at the line of the call, with the memory-limit error, exit status 2 and nothing leaked
-- command: run {file} --quiet --max-memory 16MiB
-- expect: exit 2
-- expect-error: limit_memory_in_on_state.lua:19: memory limit of 16 MiB reached (not enough memory; raise it with --max-memory)
-- expect-held-at-most: 16
-- expect-not: not reached
local sim = tcpsim.new {}
local a, b = sim:host 'A', sim:host 'B'
sim:link(a, b, { delay = '1ms' })
local server = b:listen(80)
local socks = {}
for i = 1, 600 do socks[i] = a:connect(b, 80) end
local function f() end
local fill = {}
pcall(function() while true do fill = { fill } end end)
for i = 1, 600 do socks[i]:on_state(f) end
print('not reached', server, #fill)
