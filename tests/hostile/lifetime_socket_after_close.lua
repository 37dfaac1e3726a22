-- using a socket after close is a clear error
-- expect: exit 2
-- expect-error: lifetime_socket_after_close.lua:11: socket:send: the socket was closed by this side (attem
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
sim:run_for '1s'
client:close()
client:send('x')
