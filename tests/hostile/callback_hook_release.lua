-- a hook releasing held segments is refused with a clear error
-- expect: exit 2
-- expect-error: callback_hook_release.lua:9: link:release cannot be called while the stack is processing (
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:hook(function(s) link:release() return 'hold' end)
sim:run_for '1s'
