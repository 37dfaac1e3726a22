-- recv(-5)
-- expect: exit 2
-- expect-error: number_recv_negative.lua:10: socket:recv: max must be positive
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
sim:run_for '1s'
client:recv(-5)
