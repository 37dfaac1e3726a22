-- sim:run from inside a hook is refused
-- expect: exit 2
-- expect-error: callback_hook_run.lua:9: sim:run cannot be called from inside the run (a callback or hook)
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:hook(function(s) sim:run() end)
sim:run_for '1s'
