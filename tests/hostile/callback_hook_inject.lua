-- a hook injecting on its own link is refused with a clear error
-- expect: exit 2
-- expect-error: callback_hook_inject.lua:9: link:inject cannot be called while the stack is processing (fr
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:hook(function(s) link:inject { from = a, flags = 'ACK' } end)
sim:run_for '1s'
