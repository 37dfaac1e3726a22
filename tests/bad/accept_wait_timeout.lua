-- accept_wait gives up after its timeout with the scenario's line.
-- expect-exit: 2
-- expect-error: accept_wait_timeout.lua:10: socket:accept_wait: no connection to accept within 2s
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
link:partition()
local server = b:listen(80)
a:connect(b, 80)
local peer = server:accept_wait "2s"
expect(peer):state "ESTABLISHED"
