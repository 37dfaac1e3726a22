-- send(-1)
-- expect: exit 2
-- expect-error: number_send_negative.lua:10: socket:send: byte count must be in [0, 2^30], got -1
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
sim:run_for '1s'
client:send(-1)
