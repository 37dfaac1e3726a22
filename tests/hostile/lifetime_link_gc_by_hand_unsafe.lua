-- a link handle's __gc called by hand (twice) while the handle is in use:
-- the handle is refused afterwards, and the link's other holder (its raw
-- peer) is not counted off, so its packets are still recorded
-- command: run {file} --quiet --unsafe
-- expect: exit 2
-- expect-error: lifetime_link_gc_by_hand_unsafe.lua:17: link: this handle was collected
local sim = tcpsim.new { seed = 1 }
local a = sim:host "A"
local peer = sim:raw_peer(a, { delay = "5ms" })
local l = peer.link
debug.getmetatable(l).__gc(l)
debug.getmetatable(l).__gc(l)
a:listen(8080)
peer:send "S 0:0(0) win 1000"
peer:expect "+0.01 S. 0:0(0) ack 1 <...>"
assert(#peer.link:segments() == 2, "the raw peer's link lost its packets")
local n = #l:segments()
