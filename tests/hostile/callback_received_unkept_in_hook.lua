-- expect(sock):received inside a link hook of a sim that keeps no bytes read
-- expect: exit 2
-- expect-error: callback_received_unkept_in_hook.lua:9: expect(socket):received: this sim keeps no received bytes
local sim = tcpsim.new { keep_received = false }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80, { autoread = true })
local client = a:connect(b, 80)
link:hook(function(s) if s.len > 0 then expect(server):received 'x' end end)
sim:run_for '100ms'
local peer = server:accept()
client:send 'x'
sim:run_for '1s'
