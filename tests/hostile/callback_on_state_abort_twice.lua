-- abort twice from on_state: the second is a clear error
-- expect: exit 2
-- expect-error: callback_on_state_abort_twice.lua:9: socket:abort: the socket was closed by this side (att
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
client:on_state(function(s, from, to) if to == 'ESTABLISHED' then s:abort() s:abort() end end)
sim:run_for '1s'
