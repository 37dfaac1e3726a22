-- callbacks registered in a coroutine run after it is gone
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local n = 0
coroutine.wrap(function() sim:after('1s', function() n = n + 1 end) end)()
for i = 1, 200000 do local t = { i } end
sim:run()
expect(n):equals(1)
