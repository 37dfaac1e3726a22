-- the memory budget runs out inside sim:link: Lua's part is filled with small blocks until one is
-- refused (the error caught), so the links made after it find no room; the run ends at the line of
-- the call, with the memory-limit error, exit status 2 and nothing leaked (the ASan build checks)
-- command: run {file} --quiet --max-memory 16MiB
-- expect: exit 2
-- expect-error: limit_memory_in_link.lua:15: memory limit of 16 MiB reached (not enough memory; raise it with --max-memory)
-- expect-held-at-most: 16
-- expect-not: not reached
local sim = tcpsim.new {}
local hosts = {}
for i = 1, 100 do hosts[i] = sim:host('h' .. i) end
local opts = { delay = '1ms' }
local fill = {}
pcall(function() while true do fill = { fill } end end)
for i = 1, 99 do local link = sim:link(hosts[i], hosts[i + 1], opts) end
print('not reached', #fill)
