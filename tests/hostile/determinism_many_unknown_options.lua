-- an option table with a thousand unknown names: the error names the first in byte order, not
-- whichever Lua's string hash (seeded afresh in every process) happens to visit first
-- expect: exit 2
-- expect-error: unknown option 'bogus1000' in tcpsim.new
local opts = {}
for i = 1000, 1999 do opts["bogus" .. i] = true end
local sim = tcpsim.new(opts)
expect(1):equals(1)
