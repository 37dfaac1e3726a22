-- a hook asking a negative delay is a clear error
-- expect: exit 2
-- expect-error: callback_hook_negative_delay.lua:9: link:hook returned {delay = -1}, which is not a verdic
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:hook(function(s) return { delay = -1 } end)
sim:run_for '1s'
