-- crashing a host from inside a hook is refused
-- expect: exit 2
-- expect-error: callback_hook_crash.lua:9: host:crash cannot be called while the stack is processing (from
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:hook(function(s) b:crash() end)
sim:run_for '1s'
