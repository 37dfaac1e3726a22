-- hooks that add a hook per segment stop at the rule limit with a clear error
-- expect: exit 2
-- expect-error: limit_hook_doubling.lua:9: link:hook: too many fault rules (at most 65536 per simulation)
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
local function h() link:hook(h) end
link:hook(h)
client:send(20000)
sim:run_for '60s'
