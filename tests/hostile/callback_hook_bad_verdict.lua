-- a hook returning a number is a clear error
-- expect: exit 2
-- expect-error: callback_hook_bad_verdict.lua:9: link:hook returned 42, which is not a verdict (expected n
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:hook(function(s) return 42 end)
sim:run_for '1s'
