-- An unknown TCP flag name in a fault filter.
-- expect-exit: 2
-- expect-error: unknown flags 'SYNACK'
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, {})
link:drop_next { flags = "SYNACK" }
