-- a hook raising nil stops the run with file:line
-- expect: exit 2
-- expect-error: callback_hook_error_nil.lua:9: error object is a nil value
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
link:hook(function(s) error() end)
sim:run_for '1s'
