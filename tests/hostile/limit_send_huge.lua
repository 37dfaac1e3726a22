-- a huge send count is refused or queued within the budget
-- expect: exit 2
-- expect-error: limit_send_huge.lua:9: socket:send: byte count must be in [0, 2^30], got 92233720368547758
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
client:send(math.maxinteger)
sim:run_for '1s'
