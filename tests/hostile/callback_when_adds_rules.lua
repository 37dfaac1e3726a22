-- when() adding a hundred rules under the walk
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:drop_next { when = function() for i = 1, 100 do link:drop_next { len = 7 } end return false end }
sim:run_for '1s'
expect(client):state 'ESTABLISHED'
