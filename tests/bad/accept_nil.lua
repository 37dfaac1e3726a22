-- accept() before the handshake is over returns nil; using that nil as a
-- socket names the accept() call and what to use instead.
-- expect-exit: 2
-- expect-error: accept_nil.lua:10: attempt to index a nil value (local 'peer'); no connection has been accepted (use accept_wait): accept() at
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local peer = server:accept()
peer:send "hello"
