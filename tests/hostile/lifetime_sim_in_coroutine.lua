-- a simulation made in a coroutine outlives it
-- expect: exit 0
local S
local co = coroutine.wrap(function() S = tcpsim.new {} local a, b = S:host 'A', S:host 'B' S:link(a, b, {}) b:listen(80) C = a:connect(b, 80) end)
co()
co = nil
for i = 1, 200000 do local t = { i } end
S:run_for '1s'
expect(C):state 'ESTABLISHED'
