-- Nobody answers: every SYN is lost. A retransmits its SYN and gives up:
-- connect fails with ETIMEDOUT. When each SYN leaves and when A gives up
-- differ by system (scenarios/lib/expected.lua has the sources):
-- * RFC 9293: initial RTO 1 s, doubling, at most 60 s (RFC 6298 §2.1, §5.5,
--   §2.5); R2 for a SYN at least 3 minutes (§3.8.3): SYNs at 0, 1, 3, 7,
--   15, 31, 63 and 123 s, failure at 183 s.
-- * Linux 6.5 and later: the first 4 retransmissions 1 s apart
--   (tcp_syn_linear_timeouts = 4), then doubling, tcp_syn_retries = 6 more:
--   SYNs at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s, failure at 131 s, each
--   late by its timer wheel's rounding (at HZ 250: 1.024, 2.048 ... 69.632 s,
--   failure at 135.168 s).
-- * FreeBSD: tcp_syn_backoff[] gives the same first 11 SYNs, and the
--   connection-establishment timer (TCPTV_KEEP_INIT) fails it at 75 s.
local E = require "expected"
local sim = tcpsim.new { seed = 1 }
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "50ms" })
link:partition()

local client = a:connect(b, 80)
sim:run()

local want = E.syn_schedule[sim.profile]
expect(client):trace { "CLOSED", "SYN_SENT", "CLOSED" }
expect(client):error "ETIMEDOUT"
local syns = link:segments { from = a, flags = "SYN" }
expect(#syns):equals(#want.sent)
-- each SYN one timeout after the one before, as the system's timer runs
-- it (E.timer: Linux's timer wheel)
local at = {}
for i, t in ipairs(want.sent) do
  local gap = sim.duration(t .. "s") - (i > 1 and sim.duration(want.sent[i - 1] .. "s") or 0)
  at[i] = i > 1 and E.timer(sim.profile, at[i - 1], gap) or 0
end
for i, s in ipairs(syns) do
  expect(s.sent):equals(at[i])
end
local last = want.sent[#want.sent]
local fail = E.timer(sim.profile, at[#at], sim.duration(want.fail) - sim.duration(last .. "s"))
expect(client):left("SYN_SENT", tcpsim.ns(fail))
