-- checks: 14
-- What became of each segment sent (link:segments: arrived, dropped,
-- reason) under every kind of fault, read from the link's model, not from
-- a trace: a 10 ms link delivers a segment 10 ms after it was sent; a
-- rule's delay adds its own; a segment dropped by a rule or by a link
-- that is down has no arrival and names why; a held segment arrives one
-- delay after its release, and one never released neither arrives nor is
-- dropped. Copies a rule makes and a corrupted segment's delivery change
-- nothing of the original's row. tests/cli/conns.sh runs this script with
-- and without the run log's connection entries: the answers must agree.
local sim = tcpsim.new { seed = 1, profile = "rfc9293" }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80, { isn = 5000, autoread = true })
local client = a:connect(b, 80, { isn = 1000, nodelay = true })
local peer = server:accept_wait()
sim:run_for "100ms"
local ms = sim.duration "1ms"

local function only(filter)
  local segs = link:segments(filter)
  assert(#segs == 1, "expected one segment, got " .. #segs)
  return segs[1]
end

-- duplicated twice: the original's row is one, arriving after the delay
link:duplicate_next { from = a, len = 1, copies = 2 }
client:send "a"
sim:run_for "100ms"
local s = only { from = a, seq = 1001, len = 1 }
expect(s.arrived):equals(s.sent + 10 * ms)
expect(s.dropped):equals(false)

-- dropped by a rule: no arrival, reason "fault"; its retransmission arrives
link:drop_next { from = a, len = 1 }
client:send "b"
sim:run_for "3s"
local b1 = link:segments { from = a, seq = 1002, len = 1 }
expect(#b1):equals(2)
expect(b1[1].dropped and b1[1].reason == "fault" and b1[1].arrived == nil):holds "the first is dropped by the rule"
expect(b1[2].arrived):equals(b1[2].sent + 10 * ms)

-- delayed by a rule: 10 ms + 5 ms
link:delay_next { from = a, len = 1, by = "5ms" }
client:send "c"
sim:run_for "100ms"
local c = only { from = a, seq = 1003, len = 1 }
expect(c.arrived):equals(c.sent + 15 * ms)

-- held until released: one delay after the release
local held = link:hold_next { from = b, flags = "ACK", after = tcpsim.ns(sim.now) }
client:send "d"
sim:run_for "500ms"
expect(held.fired):equals(1)
local released_at = sim.now
held:release()
sim:run_for "100ms"
local h = link:last { from = b }
expect(h.arrived):equals(released_at + 10 * ms)

-- held and never released: neither arrived nor dropped
local kept = link:hold_next { from = b, flags = "ACK", after = tcpsim.ns(sim.now) }
client:send "e"
sim:run_for "500ms"
local k = link:last { from = b }
expect(kept.fired == 1 and k.arrived == nil and k.dropped == false):holds "a held segment has no fate"

-- corrupted on the way: delivered all the same, one delay later
link:set { from = a, corrupt = 1 }
client:send "f"
sim:run_for "1ms"
link:set { from = a, corrupt = 0 }
sim:run_for "20ms"
local f = link:last { from = a }
expect(link.stats[1].corrupted):equals(1)
expect(f.arrived):equals(f.sent + 10 * ms)

-- sent into a link that is down: dropped, reason "link_down"
link:partition { from = a }
client:send "g"
sim:run_for "1ms"
link:heal { from = a }
local g = link:last { from = a }
expect(g.dropped and g.reason == "link_down" and g.arrived == nil):holds "dropped by the partition"
sim:run_for "5s"

-- the exchange marks exactly the two dropped segments
local lost = 0
for _, line in ipairs(link.exchange) do
  if line:sub(-2) == " X" then lost = lost + 1 end
end
expect(lost):equals(2)
-- every row: an arrival is one delay after sending (the rule's 5 ms and
-- the release aside), or none
local late = 0
for _, seg in ipairs(link:segments()) do
  if seg.arrived and seg.arrived ~= seg.sent + 10 * ms then late = late + 1 end
end
expect(late):equals(2)
for i, seg in ipairs(link:segments()) do
  print(i, seg.from, seg.flags, seg.seq, seg.len, seg.sent, seg.arrived, seg.dropped, seg.reason)
end
