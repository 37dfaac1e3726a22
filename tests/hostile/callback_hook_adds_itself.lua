-- a hook that adds itself: each segment's walk ends
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
local n = 0
local function h() n = n + 1 if n < 200 then link:hook(h) end end
link:hook(h)
sim:run_for '1s'
expect(client):state 'ESTABLISHED'
