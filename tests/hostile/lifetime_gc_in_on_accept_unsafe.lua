-- __gc called by hand from an on_accept callback that on_accept itself runs
-- (connections already waiting when it is set: outside the event loop, so
-- not refused as inside a run): the binding must not go on accepting from
-- the freed net; it stops at the call's line.
-- command: run {file} --quiet --unsafe
-- expect: exit 2
-- expect-error: lifetime_gc_in_on_accept_unsafe.lua:16: attempt to use a finished simulation
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
a:connect(b, 80)
a:connect(b, 80)
sim:run_to "1s"
local gc = debug.getmetatable(sim).__gc
server:on_accept(function() gc(sim) end)
