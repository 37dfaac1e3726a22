-- A failing expectation with a label: the label is in the FAIL line.
-- expect-exit: 1
-- expect-error: expect_label.lua:11: expect(socket, "client after the handshake"):state
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
link:partition()
b:listen(80)
local c = a:connect(b, 80)
sim:run_for "100ms"
expect(c, "client after the handshake"):state "ESTABLISHED"
