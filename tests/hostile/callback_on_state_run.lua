-- sim:run_for from on_state is refused
-- expect: exit 2
-- expect-error: callback_on_state_run.lua:9: sim:run_for cannot be called from inside the run (a callback 
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
client:on_state(function() sim:run_for '1s' end)
sim:run_for '1s'
