-- setmetatable on a handle is refused
-- expect: exit 2
-- expect-error: sandbox_setmetatable_handle.lua:7: bad argument #1 to 'setmetatable' (table expected, got 
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
setmetatable(sim, {})
