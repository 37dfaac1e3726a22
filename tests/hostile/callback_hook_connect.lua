-- a connect from inside a hook is refused
-- expect: exit 2
-- expect-error: callback_hook_connect.lua:9: host:connect cannot be called while the stack is processing (
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:hook(function(s) a:connect(b, 80) end)
sim:run_for '1s'
